// "Give access" on an exam's staff-access page (templates/admin_access.html, ADR 0006 §5, ADR 0015):
// a person who holds the exam's keys unlocks their own key once on this page, then passes the keys
// on to someone waiting for them. For each exam key the newcomer lacks, the holder's sealed copy is
// opened and sealed again to the newcomer's public key inside regrant(), the only place the raw exam
// key exists; the server receives only the sealed copies (POST /grants) and cannot open them.
import { regrant } from "./invigil-crypto.js";
import { StaffKeys, unlockPanel } from "./staff-keys.js";

const root = document.getElementById("pending-grants");
const status = document.getElementById("grant-status");
const buttons = () => [...document.querySelectorAll("button.give-access")];
const say = (text) => { status.textContent = text; };

class ApiError extends Error {}

async function api(path, body) {
  const init = { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.method = "POST";
    Object.assign(init.headers, { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf });
    init.body = JSON.stringify(body);
  }
  const r = await fetch(`/api/v1/staff/exams/${encodeURIComponent(root.dataset.examId)}${path}`, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(data.message ?? `The server answered ${r.status}.`);
  return data;
}

/** Seal every key `staffId` is missing to their public key; answers how many went and which are
 * still missing because this person holds no copy of them either. */
async function giveAccess(keys, staffId) {
  const holder = keys.keyring.get("staff");
  if (!holder) throw new ApiError("Unlock your key first.");
  const examId = root.dataset.examId;
  const [mine, waiting] = await Promise.all([api("/keys"), api("/grants/pending")]);
  const request = waiting.pending.find((p) => p.staff_id === staffId);
  if (!request) return { sent: 0, lacking: [] }; // someone else gave access meanwhile
  const sealed = new Map(mine.keys.filter((k) => k.sealed).map((k) => [k.kid, k.sealed]));
  const copies = {};
  const lacking = [];
  for (const kid of request.missing) {
    if (sealed.has(kid)) copies[kid] = await regrant(sealed.get(kid), holder, examId, kid, request.public_key);
    else lacking.push(kid);
  }
  if (!Object.keys(copies).length) {
    throw new ApiError("You hold none of the keys this person is waiting for; someone who holds them, or the recovery key, must give access.");
  }
  await api("/grants", { staff_id: staffId, copies });
  return { sent: Object.keys(copies).length, lacking };
}

function showHolding(staffId, lacking) {
  const cell = document.querySelector(`#assigned tr[data-staff="${CSS.escape(staffId)}"] .keys-state`);
  const item = document.querySelector(`li[data-grantee="${CSS.escape(staffId)}"]`);
  if (lacking.length) {
    if (cell) cell.textContent = `waiting for ${lacking.length} key${lacking.length === 1 ? "" : "s"}`;
    return;
  }
  if (cell) cell.textContent = "holds the keys";
  item?.remove();
  const count = document.getElementById("pending-count");
  if (count) count.textContent = String(Math.max(0, Number(count.textContent) - 1));
}

if (root && status) {
  const keys = new StaffKeys({
    staffId: root.dataset.staffId,
    idleMs: Number(root.dataset.idleMs),
    onForget: () => {
      for (const b of buttons()) b.disabled = true;
    },
  });
  unlockPanel(keys, () => {
    for (const b of buttons()) b.disabled = false;
    say("Choose “Give access” next to a person waiting for the keys.");
  });
  for (const button of buttons()) {
    button.addEventListener("click", async () => {
      const { grant: staffId, email } = button.dataset;
      button.disabled = true;
      say(`Sealing the exam's keys for ${email}…`);
      try {
        const { sent, lacking } = await giveAccess(keys, staffId);
        showHolding(staffId, lacking);
        say(lacking.length
          ? `${email} received ${sent} key${sent === 1 ? "" : "s"}; ${lacking.length} more must come from someone who holds them.`
          : sent
            ? `${email} now holds this exam's keys.`
            : `${email} already holds this exam's keys.`);
      } catch (err) {
        button.disabled = false;
        say(`Could not give access to ${email}: ${err.message ?? err}`);
      }
    });
  }
}
