// Talking to the server: a JSON POST, its answer, or the server's message as an Error.

export async function api(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

export const $ = (id) => document.getElementById(id);
