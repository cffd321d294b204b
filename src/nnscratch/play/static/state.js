// The page's state, and the URL hash that holds all of it, so that a link reproduces the run.

import { config } from "./config.js";

const MAX_HASH_POINTS = 300;

export const state = {
  settings: structuredClone(config.defaults),
  points: null,        // the page's own points [[x, y, label]], or null for the set's
  playing: false,
  hide: [],            // panels a teacher has hidden (#...&hide=data,code)
  session: null,
  frame: null,
  shown: null,         // the points the server uses: {points, labels, test}
  code: null,          // the same run in Python and on the command line, from the server
  busy: false,
  backpropLayer: null,
};

export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const settings = structuredClone(config.defaults);
  for (const [name, fallback] of Object.entries(config.defaults)) {
    if (!params.has(name)) continue;
    const text = params.get(name);
    if (Array.isArray(fallback)) {
      const items = text === "" ? [] : text.split(",").filter(Boolean);
      settings[name] = typeof fallback[0] === "number" ? items.map(Number) : items;
    } else if (typeof fallback === "number") {
      if (text !== "" && !isNaN(Number(text))) settings[name] = Number(text);
    } else {
      settings[name] = text;
    }
  }
  while (settings.activations.length < settings.layers.length) {
    settings.activations.push(config.new_layer.activation);
  }
  settings.activations.length = settings.layers.length;
  state.settings = settings;
  state.playing = params.get("playing") === "1";
  state.hide = params.has("hide") ? params.get("hide").split(",").filter(Boolean) : [];
  state.points = params.has("points") ? decodePoints(params.get("points")) : null;
}

export function writeHash() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(state.settings)) {
    params.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  params.set("playing", state.playing ? "1" : "0");
  if (state.hide.length) params.set("hide", state.hide.join(","));
  if (state.points && state.points.length <= MAX_HASH_POINTS) {
    params.set("points", encodePoints(state.points));
  }
  history.replaceState(null, "", "#" + params.toString());
}

function encodePoints(points) {
  return points.map(([x, y, label]) => `${x.toFixed(2)}:${y.toFixed(2)}:${label}`).join(";");
}

function decodePoints(text) {
  const points = text.split(";").map((item) => item.split(":").map(Number));
  return points.every((p) => p.length === 3 && p.every(Number.isFinite)) ? points : null;
}

export function classCount() {
  const s = state.settings;
  if (s.data === "plane") return 0;
  return config.class_count_sets.includes(s.data) ? s.classes : 2;
}
