// The controls: filled from the engine's choices and limits (config.js), each change a new
// session (session.js).

import { $ } from "./api.js";
import { config, EXTENT, FEATURE_LABELS } from "./config.js";
import { stepThroughBackprop } from "./equations.js";
import { changeSettings, newSession, setPlaying, showError, step } from "./session.js";
import { classCount, readHash, state } from "./state.js";

// how the menus name the engine's choices (the words are the page's; the choices are not)
const DATA_LABELS = { plane: "plane (regression)" };
const LOSS_LABELS = { cross_entropy: "softmax cross-entropy", mse: "squared error" };

export function fillSelect(select, values, labels) {
  select.replaceChildren(...values.map((value) => {
    const option = document.createElement("option");
    option.value = String(value);
    option.textContent = (labels && labels[value]) || String(value);
    return option;
  }));
}

export function buildControls() {
  const s = state.settings;
  fillSelect($("data"), config.data_sets, DATA_LABELS);
  $("data").value = s.data;
  [$("classes").min, $("classes").max] = config.classes;
  [$("n_points").min, $("n_points").max] = config.points;
  [$("noise").min, $("noise").max] = config.noise;
  [$("test_ratio").min, $("test_ratio").max] = config.test_ratio;
  for (const name of ["classes", "n_points", "seed", "noise", "test_ratio"]) $(name).value = s[name];
  $("noise-value").textContent = s.noise;
  $("test_ratio-value").textContent = s.test_ratio;
  $("classes").disabled = !config.class_count_sets.includes(s.data);
  fillSelect($("paint-class"), [...Array(classCount()).keys()]);
  fillSelect($("loss-name"), config.losses, LOSS_LABELS);
  $("loss-name").value = s.loss;
  $("loss-name").disabled = s.data === "plane";
  fillSelect($("optimizer"), config.optimizers);
  $("optimizer").value = s.optimizer;
  fillSelect($("lr"), config.learning_rates);
  $("lr").value = String(s.lr);
  fillSelect($("l2"), config.penalties);
  $("l2").value = String(s.l2);
  fillSelect($("dropout"), config.dropouts);
  $("dropout").value = String(s.dropout);
  $("batch-mode").value = s.batch_size === 0 ? "full" : s.batch_size === 1 ? "one" : "n";
  $("batch_size").max = config.points[1];
  $("batch_size").value = s.batch_size || "";
  $("batch_size").disabled = s.batch_size <= 1;
  buildFeatures();
  for (const panel of ["data", "network", "output", "equation", "code"]) {
    $(panel + "-panel").classList.toggle("hidden", state.hide.includes(panel));
  }
  $("python").textContent = state.code.python;
  $("cli").textContent = state.code.cli;
  $("export-npz").href = `/api/export?session=${state.session}&format=npz`;
  $("export-safetensors").href = `/api/export?session=${state.session}&format=safetensors`;
  $("export-points").href = `/api/points.csv?session=${state.session}`;
}

function buildFeatures() {
  const s = state.settings;
  const names = config.features.map((feature) => feature.name);
  $("features").replaceChildren(...names.map((name) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = s.features.includes(name);
    box.addEventListener("change", () => {
      const chosen = names.filter((f) => f === name ? box.checked : s.features.includes(f));
      if (chosen.length) changeSettings({ features: chosen }); else box.checked = true;
    });
    label.append(box, " " + FEATURE_LABELS[name]);
    return label;
  }));
}

export function wireControls() {
  $("play").addEventListener("click", () => setPlaying(!state.playing));
  $("step").addEventListener("click", () => { setPlaying(false); step(1); });
  $("reset").addEventListener("click", () => changeSettings({}));
  $("regenerate").addEventListener("click", () => changeSettings({}, false));
  $("data").addEventListener("change", (e) => changeSettings({
    data: e.target.value, loss: e.target.value === "plane" ? "mse" : state.settings.loss,
  }, false));
  for (const name of ["classes", "n_points", "seed"]) {
    $(name).addEventListener("change", (e) => changeSettings({ [name]: Number(e.target.value) }, false));
  }
  for (const name of ["noise", "test_ratio"]) {
    $(name).addEventListener("input", (e) => { $(name + "-value").textContent = e.target.value; });
    $(name).addEventListener("change", (e) => changeSettings({ [name]: Number(e.target.value) }, name !== "noise"));
  }
  $("loss-name").addEventListener("change", (e) => changeSettings({ loss: e.target.value }));
  $("optimizer").addEventListener("change", (e) => changeSettings({ optimizer: e.target.value }));
  for (const name of ["lr", "l2", "dropout"]) {
    $(name).addEventListener("change", (e) => changeSettings({ [name]: Number(e.target.value) }));
  }
  $("batch-mode").addEventListener("change", (e) => changeSettings({
    batch_size: { one: 1, full: 0, n: config.defaults.batch_size }[e.target.value],
  }));
  $("batch_size").addEventListener("change", (e) => changeSettings({ batch_size: Number(e.target.value) }));
  $("add-layer").addEventListener("click", () => {
    if (state.settings.layers.length >= config.max_layers) return;
    changeSettings({ layers: [...state.settings.layers, config.new_layer.units],
                     activations: [...state.settings.activations, config.new_layer.activation] });
  });
  $("remove-layer").addEventListener("click", () => {
    if (!state.settings.layers.length) return;
    changeSettings({ layers: state.settings.layers.slice(0, -1),
                     activations: state.settings.activations.slice(0, -1) });
  });
  $("boundary").addEventListener("click", editPoints);
  $("upload").addEventListener("change", uploadPoints);
  $("backprop").addEventListener("click", stepThroughBackprop);
  window.addEventListener("hashchange", () => { readHash(); newSession(); });
}

function editPoints(event) {
  if (!state.shown) return;
  const box = event.target.getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * 2 * EXTENT - EXTENT;
  const y = EXTENT - ((event.clientY - box.top) / box.height) * 2 * EXTENT;
  const points = state.shown.points.map(([px, py], i) => [px, py, state.shown.labels[i]]);
  if (event.shiftKey) {
    let nearest = 0;
    points.forEach(([px, py], i) => {
      const [nx, ny] = points[nearest];
      if ((px - x) ** 2 + (py - y) ** 2 < (nx - x) ** 2 + (ny - y) ** 2) nearest = i;
    });
    points.splice(nearest, 1);
  } else {
    const label = state.settings.data === "plane" ? (x + y) / 10 : Number($("paint-class").value);
    points.push([x, y, label]);
  }
  state.points = points;
  setPlaying(false);
  newSession();
}

async function uploadPoints(event) {
  const file = event.target.files[0];
  if (!file) return;
  if (file.size > 200000) { showError("the CSV must be under 200 kB"); return; }
  const rows = (await file.text()).trim().split(/\r?\n/).map((line) => line.split(/[,;\t]/).map(Number));
  const points = rows.filter((row) => row.length >= 3 && row.slice(0, 3).every(Number.isFinite))
    .map((row) => row.slice(0, 3));
  if (points.length < 2) { showError("no rows of x, y, label numbers in the file"); return; }
  const classes = Math.max(...points.map((p) => p[2])) + 1;
  const [fewest, most] = config.classes;
  state.points = points;
  changeSettings(state.settings.data === "plane" ? {} :
    { data: "gaussians", classes: Math.min(Math.max(classes, fewest), most) });
}
