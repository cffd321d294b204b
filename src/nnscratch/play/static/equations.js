// One neuron's (or link's) equations with the numbers of the current step, from the engine
// (POST /api/explain), and a walk through the backward pass, layer by layer.

import { $, api } from "./api.js";
import { showError } from "./session.js";
import { classCount, state } from "./state.js";

const fmt = (v) => (v === null || v === undefined ? "-" : Number(v).toPrecision(4));
const value = (name, v) => `<span class="value" data-name="${name}">${fmt(v)}</span>`;

export async function explain(layer, unit, canvas) {
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

export async function stepThroughBackprop() {
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

export async function explainLink(layer, input, unit) {
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
