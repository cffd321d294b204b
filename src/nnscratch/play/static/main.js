// The nnscratch playground page. The network is trained by nnscratch in Python (the server's
// /api, over play/engine.py); these modules only ask and draw:
//
//   config.js     the defaults, choices and limits, from the engine
//   state.js      the page's state and the URL hash that holds it
//   api.js        requests to the server
//   session.js    a session per change of settings, and its steps
//   controls.js   the controls and what each change does
//   draw.js       the boundary, the neurons, the links and the curves
//   equations.js  a neuron's equations with the numbers of the current step

import { wireControls } from "./controls.js";
import { drawLinks } from "./draw.js";
import { newSession, setPlaying } from "./session.js";
import { readHash, state } from "./state.js";

readHash();
wireControls();
newSession().then(() => { if (state.playing) setPlaying(true); });
window.addEventListener("resize", () => state.frame && drawLinks(state.frame.weights));

// the page's state, to look at from the browser's console (and from the tests)
window.playground = { state };
