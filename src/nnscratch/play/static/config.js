// What the page offers, from the engine (GET /api/config): the default settings, every choice
// of its menus and every limit, and each input feature drawn over the plane. The page holds
// none of these itself, so they cannot drift from what the server accepts.

const response = await fetch("/api/config");
export const config = await response.json();

export const FEATURE_LABELS = Object.fromEntries(config.features.map((f) => [f.name, f.label]));
export const FEATURE_MAPS = Object.fromEntries(config.features.map((f) => [f.name, f.map]));
export const EXTENT = config.extent;
