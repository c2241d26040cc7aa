// The student portal: open, in this browser, what was collected about you, with the secret on your
// hand-in receipt. The server sends only sealed envelopes; the secret never leaves this page.
import { Keyring, InvigilCryptoError, openEnvelope, privateKeyFromSecret } from "./invigil-crypto.js";

const root = document.getElementById("portal");
const token = root.dataset.token;
const form = document.getElementById("secret-form");
const status = document.getElementById("status");
const list = document.getElementById("items");
const urls = [];

function clear() {
  urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
  list.replaceChildren();
}

const keyring = new Keyring({
  idleMs: Number(root.dataset.idleMs || 15 * 60 * 1000),
  onForget: (reason) => {
    clear();
    status.textContent = reason === "idle"
      ? "Closed after a while without use. Enter your secret again to see your data."
      : "Closed.";
  },
});

const IMAGE = { screenshot: "image/png", webcam_frame: "image/jpeg", id_photo: "image/jpeg", reference_photo: "image/jpeg" };

function show(item, plaintext) {
  const li = document.createElement("li");
  li.dataset.kind = item.kind;
  const title = document.createElement("p");
  title.textContent = `${item.kind.replace("_", " ")} — captured ${item.captured_at}`;
  li.append(title);
  if (IMAGE[item.kind]) {
    const url = URL.createObjectURL(new Blob([plaintext], { type: IMAGE[item.kind] }));
    urls.push(url);
    const img = document.createElement("img");
    img.src = url;
    img.alt = item.kind;
    li.append(img);
  } else {
    const pre = document.createElement("pre");
    pre.textContent = new TextDecoder().decode(plaintext).slice(0, 20000);
    li.append(pre);
  }
  list.append(li);
}

function deleted(item) {
  const li = document.createElement("li");
  li.textContent = `${item.kind.replace("_", " ")} captured ${item.captured_at}: deleted on ${item.deleted_at}.`;
  list.append(li);
}

async function openAll(key) {
  const overview = await (await fetch(`/api/v1/portal/${token}`)).json();
  if (overview.candidate_kid && overview.candidate_kid !== key.kid) {
    throw new InvigilCryptoError("This secret belongs to another receipt.");
  }
  clear();
  let opened = 0;
  for (const item of overview.items) {
    if (item.status !== "stored") { deleted(item); continue; }
    const r = await fetch(`/api/v1/portal/${token}/items/${item.id}`);
    if (!r.ok) continue;
    const expected = { exam: overview.exam.id, session: overview.session_id, item: item.client_id, kind: item.kind };
    const { plaintext } = await openEnvelope(new Uint8Array(await r.arrayBuffer()), key, expected);
    show(item, plaintext);
    opened += 1;
    keyring.touch();
  }
  status.textContent = `Opened ${opened} item(s) in this browser. Nothing was decrypted on the server.`;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = form.elements.namedItem("secret");
  status.textContent = "Opening…";
  try {
    const key = await privateKeyFromSecret(field.value);
    field.value = "";
    keyring.add("candidate", key);
    await openAll(key);
  } catch (err) {
    keyring.logout();
    status.textContent = err instanceof InvigilCryptoError ? err.message : `Could not open your data: ${err}`;
  }
});

document.getElementById("close").addEventListener("click", () => keyring.logout());
