// Unlock your key: the wrapped private key comes from the server, the passphrase stays in this page,
// and the unwrapped key lives in a Keyring (memory only) that forgets it on logout or when idle.
import { Keyring, InvigilCryptoError, staffKeyAad, unwrapPrivateKey } from "./invigil-crypto.js";

const root = document.getElementById("unlock");
const form = document.getElementById("unlock-form");
const status = document.getElementById("key-status");
const idleMinutes = Math.round(Number(root.dataset.idleMs) / 60000);

export const keyring = new Keyring({
  idleMs: Number(root.dataset.idleMs),
  onForget: (reason) => {
    status.textContent = reason === "idle"
      ? `Your key was locked again after ${idleMinutes} minutes without use. Unlock it to continue.`
      : "Your key is locked.";
  },
});
window.invigilKeyring = keyring; // later pages of this session find the unlocked key here

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = form.elements.namedItem("passphrase");
  status.textContent = "Unlocking…";
  try {
    const response = await fetch(root.dataset.keyUrl, { credentials: "same-origin" });
    if (!response.ok) throw new InvigilCryptoError("The server did not give your locked key; log in again.");
    const wrapped = await response.json();
    const { staffId, kid } = root.dataset;
    const pair = await unwrapPrivateKey(wrapped.wrapped, field.value, staffKeyAad(staffId, kid), kid);
    keyring.add("staff", pair);
    status.textContent = `Your key (${kid.slice(0, 12)}…) is unlocked in this browser. It is forgotten when you log out or after ${idleMinutes} minutes without use.`;
  } catch (err) {
    status.textContent = err instanceof InvigilCryptoError && err.name === "WrongPassphrase"
      ? "That passphrase does not unlock your key. Check it and try again."
      : `Could not unlock your key: ${err.message ?? err}`;
  } finally {
    field.value = "";
  }
});

// The button stays disabled until now: pressed earlier, the browser would have sent the form itself,
// the passphrase in the address, to the server (a disabled default button stops Enter, too).
form.querySelector("button[type=submit]").disabled = false;
document.getElementById("lock").addEventListener("click", () => keyring.logout());
document.getElementById("logout-form")?.addEventListener("submit", () => keyring.logout());
