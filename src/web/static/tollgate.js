// Small progressive enhancements, loaded from /static (no inline script): copy buttons and confirmations for
// destructive forms. Every page works without it.
/* global document, navigator, window */
(function () {
  'use strict';

  function announce(button, text) {
    var status = document.getElementById(button.getAttribute('aria-describedby') || '');
    if (status) status.textContent = text;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // http on a non-loopback host has no async clipboard: select and use the legacy command.
    return new Promise(function (resolve, reject) {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'visually-hidden';
      document.body.appendChild(area);
      area.select();
      var ok;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) resolve(); else reject(new Error('copy failed'));
    });
  }

  document.querySelectorAll('button[data-copy-target]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var target = document.getElementById(button.getAttribute('data-copy-target'));
      if (!target) return;
      copyText(target.textContent.trim()).then(
        function () { announce(button, 'Copied'); },
        function () { announce(button, 'Select the text and copy it'); },
      );
    });
  });

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!window.confirm(form.getAttribute('data-confirm'))) event.preventDefault();
    });
  });

  // Escape closes an open workspace switcher and returns focus to it.
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') return;
    document.querySelectorAll('details[open].switcher').forEach(function (d) {
      d.open = false;
      var s = d.querySelector('summary');
      if (s) s.focus();
    });
  });
})();
