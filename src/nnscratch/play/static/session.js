// A session on the server: a new one for every change of settings or points, then steps.

import { $, api } from "./api.js";
import { buildControls } from "./controls.js";
import { draw } from "./draw.js";
import { state, writeHash } from "./state.js";

export async function newSession() {
  const body = { settings: state.settings };
  if (state.points) body.points = state.points;
  try {
    const answer = await api("/api/session", body);
    state.session = answer.session;
    state.settings = answer.settings;
    state.shown = { points: answer.points, labels: answer.labels, test: answer.test };
    state.code = answer.code;
    showError("");
    buildControls();
    draw(answer);
    writeHash();
  } catch (error) {
    showError(error.message);
  }
}

export async function step(epochs) {
  if (!state.session || state.busy) return;
  state.busy = true;
  try {
    draw(await api("/api/step", { session: state.session, epochs }));
  } catch (error) {
    showError(error.message);
    setPlaying(false);
  } finally {
    state.busy = false;
  }
}

function loop() {
  if (!state.playing) return;
  step(1).then(() => requestAnimationFrame(loop));
}

export function setPlaying(playing) {
  state.playing = playing;
  $("play").textContent = playing ? "pause" : "play";
  writeHash();
  if (playing) loop();
}

export function showError(message) {
  $("error").textContent = message;
}

export function changeSettings(changes, keepPoints = true) {
  Object.assign(state.settings, changes);
  if (!keepPoints) state.points = null;
  setPlaying(false);
  newSession();
}
