// The administration pages' few behaviours (no inline script under the CSP):
// - <input type=file data-fills=ID>: read the chosen CSV here and put its text into the textarea ID,
//   where the coordinator can check it before the form is sent (no upload of the file itself);
// - <button data-print>: print the page (the code sheet).
for (const input of document.querySelectorAll("input[type=file][data-fills]")) {
  input.addEventListener("change", async () => {
    const target = document.getElementById(input.dataset.fills);
    const file = input.files && input.files[0];
    if (!target || !file) return;
    target.value = await file.text();
    target.focus();
  });
}
for (const button of document.querySelectorAll("button[data-print]")) {
  button.addEventListener("click", () => window.print());
}
// After a refused form, take keyboard and screen-reader users to the list of problems.
document.getElementById("error-summary")?.focus();
