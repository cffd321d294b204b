// The nnscratch playground page: controls, drawing, and the URL hash. The network itself is
// trained by nnscratch in Python (the server's /api); this file only asks and draws.
"use strict";

const DEFAULTS = {
  data: "circles", noise: 0.1, n_points: 300, test_ratio: 0.3, classes: 2, seed: 0,
  layers: [4, 2], activations: ["tanh", "tanh"], loss: "cross_entropy", optimizer: "sgd",
  lr: 0.03, batch_size: 10, l2: 0, dropout: 0, features: ["x", "y"],
};
const FEATURES = ["x", "y", "x2", "y2", "xy", "sinx", "siny"];
const FEATURE_LABELS = { x: "x", y: "y", x2: "x²", y2: "y²", xy: "xy", sinx: "sin x", siny: "sin y" };
const ACTIVATIONS = ["tanh", "sigmoid", "relu", "leaky_relu"];
const RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const PENALTIES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const COLOURS = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189]];
const EXTENT = 6;
const MAX_HASH_POINTS = 300;

const state = {
  settings: structuredClone(DEFAULTS),
  points: null,        // the page's own points [[x, y, label]], or null for the set's
  playing: false,
  hide: [],            // panels a teacher has hidden (#...&hide=data,code)
  session: null,
  frame: null,
  shown: null,         // the points the server uses: {points, labels, test}
  busy: false,
  backpropLayer: null,
};

const $ = (id) => document.getElementById(id);

// ---- the URL hash: the whole state, so that a link reproduces the run ----------------------

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const settings = structuredClone(DEFAULTS);
  const numbers = ["noise", "n_points", "test_ratio", "classes", "seed", "lr", "batch_size",
                   "l2", "dropout"];
  for (const name of numbers) {
    if (params.has(name) && params.get(name) !== "" && !isNaN(Number(params.get(name)))) {
      settings[name] = Number(params.get(name));
    }
  }
  for (const name of ["data", "loss", "optimizer"]) {
    if (params.has(name)) settings[name] = params.get(name);
  }
  if (params.has("layers")) {
    settings.layers = params.get("layers") === "" ? [] : params.get("layers").split(",").map(Number);
  }
  if (params.has("activations")) {
    settings.activations = params.get("activations") === "" ? [] : params.get("activations").split(",");
  }
  while (settings.activations.length < settings.layers.length) settings.activations.push("tanh");
  settings.activations.length = settings.layers.length;
  if (params.has("features")) settings.features = params.get("features").split(",").filter(Boolean);
  state.settings = settings;
  state.playing = params.get("playing") === "1";
  state.hide = params.has("hide") ? params.get("hide").split(",").filter(Boolean) : [];
  state.points = params.has("points") ? decodePoints(params.get("points")) : null;
}

function writeHash() {
  const s = state.settings;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(s)) {
    params.set(name, Array.isArray(value) ? value.join(",") : String(value));
  }
  params.set("playing", state.playing ? "1" : "0");
  if (state.hide.length) params.set("hide", state.hide.join(","));
  if (state.points && state.points.length <= MAX_HASH_POINTS) params.set("points", encodePoints(state.points));
  history.replaceState(null, "", "#" + params.toString());
}

function encodePoints(points) {
  return points.map(([x, y, label]) => `${x.toFixed(2)}:${y.toFixed(2)}:${label}`).join(";");
}

function decodePoints(text) {
  const points = text.split(";").map((item) => item.split(":").map(Number));
  return points.every((p) => p.length === 3 && p.every(Number.isFinite)) ? points : null;
}

// ---- talking to the server -----------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

async function newSession() {
  const body = { settings: state.settings };
  if (state.points) body.points = state.points;
  try {
    const answer = await api("/api/session", body);
    state.session = answer.session;
    state.settings = answer.settings;
    state.shown = { points: answer.points, labels: answer.labels, test: answer.test };
    showError("");
    buildControls();
    draw(answer);
    writeHash();
  } catch (error) {
    showError(error.message);
  }
}

async function step(epochs) {
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

function setPlaying(playing) {
  state.playing = playing;
  $("play").textContent = playing ? "pause" : "play";
  writeHash();
  if (playing) loop();
}

function showError(message) {
  $("error").textContent = message;
}

// ---- controls ------------------------------------------------------------------------------

function fillSelect(select, values, labels) {
  select.replaceChildren(...values.map((value, index) => {
    const option = document.createElement("option");
    option.value = String(value);
    option.textContent = labels ? labels[index] : String(value);
    return option;
  }));
}

function buildControls() {
  const s = state.settings;
  $("data").value = s.data;
  for (const name of ["classes", "n_points", "seed", "noise", "test_ratio"]) $(name).value = s[name];
  $("noise-value").textContent = s.noise;
  $("test_ratio-value").textContent = s.test_ratio;
  $("classes").disabled = !["gaussians", "spirals"].includes(s.data);
  fillSelect($("paint-class"), [...Array(classCount()).keys()]);
  $("loss-name").value = s.loss;
  $("loss-name").disabled = s.data === "plane";
  $("optimizer").value = s.optimizer;
  fillSelect($("lr"), RATES);
  $("lr").value = String(s.lr);
  fillSelect($("l2"), PENALTIES);
  $("l2").value = String(s.l2);
  fillSelect($("dropout"), DROPOUTS);
  $("dropout").value = String(s.dropout);
  $("batch-mode").value = s.batch_size === 0 ? "full" : s.batch_size === 1 ? "one" : "n";
  $("batch_size").value = s.batch_size || "";
  $("batch_size").disabled = s.batch_size <= 1;
  const features = $("features");
  features.replaceChildren(...FEATURES.map((name) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = s.features.includes(name);
    box.addEventListener("change", () => {
      const chosen = FEATURES.filter((f) => f === name ? box.checked : s.features.includes(f));
      if (chosen.length) changeSettings({ features: chosen }); else box.checked = true;
    });
    label.append(box, " " + FEATURE_LABELS[name]);
    return label;
  }));
  for (const panel of ["data", "network", "output", "equation", "code"]) {
    $(panel + "-panel").classList.toggle("hidden", state.hide.includes(panel));
  }
  $("python").textContent = pythonCode();
  $("cli").textContent = cliLine();
  $("export-npz").href = `/api/export?session=${state.session}&format=npz`;
  $("export-safetensors").href = `/api/export?session=${state.session}&format=safetensors`;
  $("export-points").href = `/api/points.csv?session=${state.session}`;
}

function classCount() {
  const s = state.settings;
  if (s.data === "plane") return 0;
  return ["gaussians", "spirals"].includes(s.data) ? s.classes : 2;
}

function changeSettings(changes, keepPoints = true) {
  Object.assign(state.settings, changes);
  if (!keepPoints) state.points = null;
  setPlaying(false);
  newSession();
}

function wireControls() {
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
    batch_size: { one: 1, full: 0, n: 10 }[e.target.value],
  }));
  $("batch_size").addEventListener("change", (e) => changeSettings({ batch_size: Number(e.target.value) }));
  $("add-layer").addEventListener("click", () => {
    if (state.settings.layers.length >= 6) return;
    changeSettings({ layers: [...state.settings.layers, 2],
                     activations: [...state.settings.activations, "tanh"] });
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
  state.points = points;
  changeSettings(state.settings.data === "plane" ? {} :
    { data: "gaussians", classes: Math.min(Math.max(classes, 2), 5) });
}

// ---- drawing -------------------------------------------------------------------------------

function draw(frame) {
  state.frame = frame;
  $("epoch").textContent = frame.epoch;
  $("loss").textContent = frame.loss === null ? "-" : frame.loss.toFixed(4);
  $("test-loss").textContent = frame.test_loss === null ? "-" : frame.test_loss.toFixed(4);
  drawBoundary(frame);
  drawNetwork(frame);
  drawCurves(frame.history);
}

function heatmap(canvas, size, colourOf) {
  const image = new ImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = colourOf(i);
    image.data.set([r, g, b, 255], 4 * i);
  }
  const source = document.createElement("canvas");
  source.width = source.height = size;
  source.getContext("2d").putImageData(image, 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
}

function mix(colour, share) {  // a colour faded towards white by 1 - share
  return colour.map((c) => Math.round(255 - (255 - c) * share));
}

function valueColour(level) {  // 0 orange .. 0.5 white .. 1 blue
  const share = Math.abs(level - 0.5) * 2;
  return mix(level < 0.5 ? COLOURS[1] : COLOURS[0], share);
}

function drawBoundary(frame) {
  const canvas = $("boundary");
  const grid = frame.grid;
  const b = frame.boundary;
  if (b.kind === "classes") {
    heatmap(canvas, grid, (i) => mix(COLOURS[b.class[i]], 0.15 + 0.55 * b.confidence[i] / 255));
  } else {
    heatmap(canvas, grid, (i) => valueColour(b.value[i] / 255));
  }
  const context = canvas.getContext("2d");
  const { points, labels, test } = state.shown;
  points.forEach(([x, y], i) => {
    const cx = ((x + EXTENT) / (2 * EXTENT)) * canvas.width;
    const cy = ((EXTENT - y) / (2 * EXTENT)) * canvas.height;
    context.beginPath();
    context.arc(cx, cy, 3.2, 0, 2 * Math.PI);
    const colour = b.kind === "classes" ? COLOURS[labels[i]] : valueColour((labels[i] + 1) / 2);
    context.fillStyle = `rgb(${colour.join(",")})`;
    context.fill();
    context.lineWidth = test[i] ? 1.5 : 0.8;
    context.strokeStyle = test[i] ? "#000" : "#fff";
    context.stroke();
  });
}

function drawNetwork(frame) {
  const s = state.settings;
  const columns = $("columns");
  const sizes = [s.features.length, ...s.layers];
  const existing = columns.querySelectorAll(".column");
  if (existing.length !== sizes.length + 1 || [...existing].some((c, i) => i < sizes.length &&
      c.querySelectorAll("canvas").length !== sizes[i])) {
    buildColumns(sizes);
  }
  frame.neurons.forEach((maps, layer) => maps.forEach((map, unit) => {
    const canvas = columns.querySelector(`canvas[data-layer="${layer}"][data-unit="${unit}"]`);
    if (canvas) heatmap(canvas, frame.neuron_grid, (i) => valueColour(map[i] / 255));
  }));
  drawLinks(frame.weights);
}

function buildColumns(sizes) {
  const s = state.settings;
  const columns = $("columns");
  columns.replaceChildren();
  sizes.forEach((size, index) => {
    const column = document.createElement("div");
    column.className = "column";
    const title = document.createElement("div");
    title.className = "title";
    if (index === 0) {
      title.textContent = "features";
    } else {
      const layer = index - 1;
      const plus = document.createElement("button");
      plus.textContent = "+";
      plus.addEventListener("click", () => resizeLayer(layer, 1));
      const minus = document.createElement("button");
      minus.textContent = "-";
      minus.addEventListener("click", () => resizeLayer(layer, -1));
      const activation = document.createElement("select");
      fillSelect(activation, ACTIVATIONS);
      activation.value = s.activations[layer];
      activation.dataset.layer = String(layer);
      activation.addEventListener("change", (e) => {
        const activations = [...s.activations];
        activations[layer] = e.target.value;
        changeSettings({ activations });
      });
      title.append(`layer ${index} `, plus, minus, document.createElement("br"), activation);
    }
    column.append(title);
    for (let unit = 0; unit < size; unit++) {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 40;
      canvas.className = index === 0 ? "neuron feature" : "neuron";
      if (index === 0) {
        canvas.title = FEATURE_LABELS[s.features[unit]];
        canvas.dataset.feature = s.features[unit];
        drawFeature(canvas, s.features[unit]);
      } else {
        canvas.dataset.layer = String(index - 1);
        canvas.dataset.unit = String(unit);
        canvas.addEventListener("mouseenter", () => explain(index - 1, unit, canvas));
        canvas.addEventListener("click", () => explain(index - 1, unit, canvas));
      }
      column.append(canvas);
    }
    columns.append(column);
  });
  const output = document.createElement("div");
  output.className = "column";
  const title = document.createElement("div");
  title.className = "title";
  title.textContent = "output";
  output.append(title);
  const outputs = s.data === "plane" ? 1 : classCount();
  for (let unit = 0; unit < outputs; unit++) {
    const box = document.createElement("canvas");
    box.width = box.height = 40;
    box.className = "neuron";
    box.dataset.layer = String(s.layers.length);
    box.dataset.unit = String(unit);
    box.dataset.output = "1";
    box.addEventListener("mouseenter", () => explain(s.layers.length, unit, box));
    const context = box.getContext("2d");
    context.fillStyle = s.data === "plane" ? "#ddd" : `rgb(${COLOURS[unit].join(",")})`;
    context.fillRect(0, 0, 40, 40);
    output.append(box);
  }
  columns.append(output);
}

function drawFeature(canvas, name) {
  const size = 40;
  const fn = {
    x: (x) => x / EXTENT, y: (x, y) => y / EXTENT, x2: (x) => (x / EXTENT) ** 2,
    y2: (x, y) => (y / EXTENT) ** 2, xy: (x, y) => (x / EXTENT) * (y / EXTENT),
    sinx: (x) => Math.sin(x), siny: (x, y) => Math.sin(y),
  }[name];
  heatmap(canvas, size, (i) => {
    const x = ((i % size) / (size - 1)) * 2 * EXTENT - EXTENT;
    const y = EXTENT - (Math.floor(i / size) / (size - 1)) * 2 * EXTENT;
    return valueColour((Math.max(-1, Math.min(1, fn(x, y))) + 1) / 2);
  });
}

function resizeLayer(layer, change) {
  const layers = [...state.settings.layers];
  layers[layer] = Math.max(1, Math.min(8, layers[layer] + change));
  changeSettings({ layers });
}

function drawLinks(weights) {
  const svg = $("links");
  const box = $("network").getBoundingClientRect();
  const columns = [...$("columns").querySelectorAll(".column")];
  const centres = columns.map((column) => [...column.querySelectorAll("canvas")].map((canvas) => {
    const r = canvas.getBoundingClientRect();
    return [r.left - box.left, r.right - box.left, r.top - box.top + r.height / 2];
  }));
  const largest = Math.max(1e-9, ...weights.flatMap((w) => w.W.flat().map(Math.abs)));
  const lines = [];
  const targets = [];  // a wide transparent line over each link, easy to point at
  weights.forEach((layer, index) => {
    layer.W.forEach((row, i) => row.forEach((w, j) => {
      const from = centres[index][i];
      const to = centres[index + 1] && centres[index + 1][j];
      if (!from || !to) return;
      const colour = w >= 0 ? "rgb(31,119,180)" : "rgb(255,127,14)";
      const width = (0.3 + 3.5 * Math.abs(w) / largest).toFixed(2);
      const ends = `x1="${from[1]}" y1="${from[2]}" x2="${to[0]}" y2="${to[2]}"`;
      lines.push(`<line ${ends} stroke="${colour}" stroke-width="${width}" stroke-opacity="0.7"/>`);
      targets.push(`<line class="hit" ${ends} stroke="transparent" stroke-width="7" ` +
                   `data-layer="${index}" data-input="${i}" data-unit="${j}"/>`);
    }));
  });
  svg.innerHTML = lines.join("") + targets.join("");
  svg.querySelectorAll("line.hit").forEach((line) => line.addEventListener("mouseenter", () =>
    explainLink(Number(line.dataset.layer), Number(line.dataset.input), Number(line.dataset.unit))));
}

async function explainLink(layer, input, unit) {
  if (!state.session) return;
  try {
    const e = await api("/api/explain", { session: state.session, layer, unit, sample: 0 });
    $("equations").innerHTML =
      `<p><b>the link</b> from input ${input} to neuron ${unit} of layer ${layer + 1}: ` +
      `W = ${value("link_w", e.weights[input])}; it adds W·a = ${fmt(e.weights[input])}·` +
      `${value("link_a", e.inputs[input])} to z</p>` +
      `<p><b>backward</b> dL/dW = a·dL/dz = ${fmt(e.inputs[input])}·${fmt(e.grad_z)} = ` +
      `${value("link_grad", e.grad_weights[input])}</p>` +
      `<p><b>update</b> (plain SGD, lr ${e.lr}) W ← ${fmt(e.weights[input])} − ${e.lr}·` +
      `${fmt(e.grad_weights[input])} = ${value("link_new", e.new_weights[input])}</p>` +
      equationHtml(e);
  } catch (error) {
    showError(error.message);
  }
}

function drawCurves(history) {
  const canvas = $("curves");
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  const series = [[history.loss, "#222"], [history.test_loss, "#c0392b"]];
  const values = series.flatMap(([v]) => v).filter((v) => v !== null && Number.isFinite(v));
  if (!values.length) return;
  const top = Math.max(...values) * 1.05 || 1;
  const n = Math.max(...series.map(([v]) => v.length));
  for (const [line, colour] of series) {
    context.beginPath();
    line.forEach((value, i) => {
      if (value === null) return;
      const x = n > 1 ? (i / (n - 1)) * (canvas.width - 4) + 2 : 2;
      const y = canvas.height - 2 - (value / top) * (canvas.height - 4);
      if (i === 0) context.moveTo(x, y); else context.lineTo(x, y);
    });
    context.strokeStyle = colour;
    context.lineWidth = 1.5;
    context.stroke();
  }
  context.fillStyle = "#555";
  context.fillText("loss: training (black), test (red)", 6, 12);
}

// ---- equations with numbers ------------------------------------------------------------------

const fmt = (v) => (v === null || v === undefined ? "-" : Number(v).toPrecision(4));
const value = (name, v) => `<span class="value" data-name="${name}">${fmt(v)}</span>`;

async function explain(layer, unit, canvas) {
  if (!state.session) return;
  document.querySelectorAll(".neuron.active").forEach((c) => c.classList.remove("active"));
  canvas.classList.add("active");
  try {
    const e = await api("/api/explain", { session: state.session, layer, unit, sample: 0 });
    $("equations").innerHTML = equationHtml(e);
  } catch (error) {
    showError(error.message);
  }
}

function equationHtml(e) {
  const terms = e.inputs.map((a, i) => `${value(`w${i}`, e.weights[i])}·${value(`a${i}`, a)}`);
  const grads = e.grad_weights.map((g, i) => `dL/dW<sub>${i}</sub> = a<sub>${i}</sub>·dL/dz = ${value(`gw${i}`, g)}`);
  const updates = e.new_weights.map((w, i) => `W<sub>${i}</sub> ← ${fmt(e.weights[i])} − ${e.lr}·${fmt(e.grad_weights[i])} = ${value(`nw${i}`, w)}`);
  const forward = e.a === null
    ? `(an output: ${e.activation} over the outputs, then the loss)`
    : `a = ${e.activation}(z) = ${value("a", e.a)}`;
  return `<div data-layer="${e.layer}" data-unit="${e.unit}">` +
    `<p>Neuron ${e.unit} of layer ${e.layer + 1}, for the training point ` +
    `(${fmt(e.point[0])}, ${fmt(e.point[1])}) labelled ${state.settings.data === "plane" ? fmt(e.label) : e.label}; ` +
    `loss on it ${value("loss", e.loss)}</p>` +
    `<p><b>forward</b> z = Σ<sub>i</sub> W<sub>i</sub>·a<sub>i</sub> + b = ${terms.join(" + ")} + ${value("b", e.bias)} = ${value("z", e.z)}; ${forward}</p>` +
    `<p><b>backward</b> dL/dz = ${value("grad_z", e.grad_z)}; ${grads.join("; ")}; dL/db = ${value("grad_b", e.grad_bias)}</p>` +
    `<p><b>update</b> (plain SGD, lr ${e.lr}) ${updates.join("; ")}; b ← ${value("nb", e.new_bias)}</p></div>`;
}

async function stepThroughBackprop() {
  if (!state.session) return;
  const s = state.settings;
  const last = s.layers.length;  // the output layer's index among the Dense layers
  state.backpropLayer = state.backpropLayer === null || state.backpropLayer <= 0 ? last : state.backpropLayer - 1;
  const layer = state.backpropLayer;
  const size = layer === last ? (s.data === "plane" ? 1 : classCount()) : s.layers[layer];
  const rows = [];
  for (let unit = 0; unit < size; unit++) {
    const e = await api("/api/explain", { session: state.session, layer, unit, sample: 0 });
    rows.push(`unit ${unit}: dL/dz = ${value(`grad_z${unit}`, e.grad_z)}`);
  }
  const rule = layer === last
    ? (s.loss === "mse" ? "dL/dz = 2 (z − y) / k  (squared error on the outputs)" : "dL/dz = p − y  (softmax with cross-entropy)")
    : `dz<sup>${layer + 1}</sup> = (dz<sup>${layer + 2}</sup> W<sup>${layer + 2}ᵀ</sup>) ⊙ φ′(z<sup>${layer + 1}</sup>)`;
  $("equations").innerHTML = `<p><b>backprop, layer ${layer + 1}</b> ` +
    `${layer === last ? "(the output)" : ""}: ${rule}</p><p>${rows.join("<br>")}</p>` +
    `<p class="hint">Press again for layer ${layer === 0 ? last + 1 + " (from the top)" : layer}.</p>`;
}

// ---- the same in code ----------------------------------------------------------------------

function pythonCode() {
  const s = state.settings;
  const sizes = [s.features.length, ...s.layers, s.data === "plane" ? 1 : classCount()];
  const layers = [];
  sizes.slice(1).forEach((size, i) => {
    layers.push(`ns.Dense(${sizes[i]}, ${size}, init="glorot_uniform")`);
    if (i < s.layers.length) {
      layers.push(`ns.${{ tanh: "Tanh", sigmoid: "Sigmoid", relu: "ReLU", leaky_relu: "LeakyReLU" }[s.activations[i]]}()`);
      if (s.dropout) layers.push(`ns.Dropout(${s.dropout})`);
    }
  });
  const optimizer = s.optimizer === "adam" ? `ns.Adam(lr=${s.lr}, weight_decay=${s.l2})`
    : `ns.SGD(lr=${s.lr}, momentum=${s.optimizer === "momentum" ? 0.9 : 0}, weight_decay=${s.l2})`;
  return [
    "import nnscratch as ns",
    "from nnscratch.play.engine import Playground, Settings",
    "",
    `settings = Settings(**${JSON.stringify(s)})`,
    "playground = Playground(settings)       # the same points, split and start",
    "# which is this network:",
    `net = ns.Sequential([${layers.join(", ")}],`,
    `                    seed=${s.seed}, dtype="float64", loss="${s.loss}")`,
    `optimizer = ${optimizer}`,
    "playground.step(epochs=100)             # train, as the play button does",
  ].join("\n");
}

function cliLine() {
  const s = state.settings;
  const same = s.activations.every((a) => a === s.activations[0]);
  const activation = s.activations[0] || "relu";
  const batch = s.batch_size === 0 ? "full" : s.batch_size;
  let line = `nnscratch train --data playground.csv --layers ${s.layers.join(" ") || "(none)"} ` +
    `--activation ${activation} --optimizer ${s.optimizer} --lr ${s.lr} --batch-size ${batch} ` +
    `--dropout ${s.dropout} --test-split ${s.test_ratio} --seed ${s.seed} --scale none`;
  if (!same) line += "\n# the command line takes one activation for every hidden layer";
  line += "\n# playground.csv (the link below): each point's features and label. The same" +
    "\n# architecture and settings; the command line draws its own split and starting weights.";
  return line;
}

// ---- start -----------------------------------------------------------------------------------

readHash();
wireControls();
newSession().then(() => { if (state.playing) setPlaying(true); });
window.addEventListener("resize", () => state.frame && drawLinks(state.frame.weights));
