// Progressive enhancement only: every page works without it.
document.addEventListener("click", (event) => {
  const copy = event.target.closest("button.copy");
  if (copy) {
    const text = copy.dataset.copy;
    const done = () => { copy.dataset.copied = "1"; copy.textContent = "✓"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, () => {});
    } else {
      const field = copy.closest("tr, dd")?.querySelector("input");
      if (field) { field.select(); document.execCommand("copy"); done(); }
    }
    return;
  }
  const back = event.target.closest("a[data-back]");
  if (back && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
