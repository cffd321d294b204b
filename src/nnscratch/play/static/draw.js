// Drawing a frame: the boundary with the points, every neuron over the plane, the links, and
// the loss curves.

import { $ } from "./api.js";
import { config, EXTENT, FEATURE_LABELS, FEATURE_MAPS } from "./config.js";
import { fillSelect } from "./controls.js";
import { explain, explainLink } from "./equations.js";
import { changeSettings } from "./session.js";
import { classCount, state } from "./state.js";

const COLOURS = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189]];

export function draw(frame) {
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
  const outputs = s.data === "plane" ? 1 : classCount();
  const existing = [...columns.querySelectorAll(".column")];
  const counts = existing.map((column) => column.querySelectorAll("canvas").length);
  if (counts.join() !== [...sizes, outputs].join()) buildColumns(sizes);  // outputs too
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
      fillSelect(activation, config.activations);
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

function drawFeature(canvas, name) {  // the engine's map of the feature over the plane
  const map = FEATURE_MAPS[name];
  heatmap(canvas, config.feature_grid, (i) => valueColour(map[i] / 255));
}

function resizeLayer(layer, change) {
  const layers = [...state.settings.layers];
  layers[layer] = Math.max(1, Math.min(config.max_units, layers[layer] + change));
  changeSettings({ layers });
}

export function drawLinks(weights) {
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
