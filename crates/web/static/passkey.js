// Passkeys and security keys: the browser's half of the WebAuthn
// ceremonies. Each is two form posts (CSRF-checked like any form): the
// options, then the answer. Without JavaScript the pages say so and the
// other factors keep working.
(function () {
  "use strict";
  // The page's words, in its language, on the script element itself.
  var script = document.currentScript;
  function say(key, fallback) {
    return (script && script.getAttribute("data-" + key)) || fallback;
  }
  if (!window.PublicKeyCredential || !navigator.credentials) {
    var parts = document.querySelectorAll("[data-passkey]");
    for (var i = 0; i < parts.length; i++) parts[i].hidden = true;
    var missing = document.getElementById("passkey-unsupported");
    if (missing) missing.hidden = false;
    return;
  }

  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString()
    }).then(function (response) {
      return response.json().catch(function () { return { error: say("no-answer", "The server did not answer (%s).").replace("%s", response.status) }; });
    });
  }
  function hide(status) {
    if (!status) return;
    status.hidden = true;
    status.textContent = "";
  }
  function show(status, text) {
    if (!status) return;
    status.textContent = text;
    status.hidden = false;
    status.focus && status.focus();
  }
  function why(error) {
    if (error && error.name === "NotAllowedError") return say("cancelled", "The passkey request was cancelled or timed out. Try again.");
    if (error && error.name === "InvalidStateError") return say("registered", "This passkey or security key is registered already.");
    return (error && error.message) || say("failed", "The passkey did not work. Try again, or use another way.");
  }
  function credentialIds(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBytes(c.id) }); });
  }
  function created(credential) {
    var r = credential.response;
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: {
        attestationObject: toText(r.attestationObject), clientDataJSON: toText(r.clientDataJSON),
        transports: r.getTransports ? r.getTransports() : undefined
      },
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }
  function asserted(credential) {
    var r = credential.response;
    return JSON.stringify({
      id: credential.id, rawId: toText(credential.rawId), type: credential.type,
      response: {
        authenticatorData: toText(r.authenticatorData), clientDataJSON: toText(r.clientDataJSON),
        signature: toText(r.signature), userHandle: toText(r.userHandle)
      },
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }
  function getOptions(options) {
    var pk = Object.assign({}, options.publicKey);
    pk.challenge = toBytes(pk.challenge);
    pk.allowCredentials = credentialIds(pk.allowCredentials);
    return pk;
  }
  function field(form, name) {
    var input = form.querySelector("[name='" + name + "']");
    return input ? input.value : "";
  }
  // A refusal about one input (its data-field) marks it, ties the
  // message to it and puts the focus there; the next try unmarks it.
  function mark(form, status, name) {
    var input = form && name && form.querySelector("[data-field='" + name + "']");
    if (!input) return;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", status.id);
    input.focus();
  }
  function unmark(form) {
    if (!form) return;
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var i = 0; i < marked.length; i++) {
      marked[i].removeAttribute("aria-invalid");
      marked[i].removeAttribute("aria-describedby");
    }
  }
  function refusal(answer) {
    var error = new Error(answer.error);
    error.field = answer.field;
    return error;
  }
  function go(answer, status, form) {
    if (answer.redirect) { window.location.assign(answer.redirect); return; }
    show(status, answer.error || say("refused", "The passkey was not accepted."));
    mark(form, status, answer.field);
  }

  // Adding one: /account/passkeys.
  var add = document.getElementById("add-passkey");
  if (add) {
    add.addEventListener("click", function () {
      var form = document.getElementById("passkey-add"), status = document.getElementById("passkey-status");
      hide(status);
      unmark(form);
      post(form.getAttribute("data-options"), {
        csrf_token: field(form, "csrf_token"), password: field(form, "password"), current_token: field(form, "current_token")
      }).then(function (options) {
        if (options.error) throw refusal(options);
        var pk = Object.assign({}, options.publicKey);
        pk.challenge = toBytes(pk.challenge);
        pk.user = Object.assign({}, pk.user, { id: toBytes(pk.user.id) });
        pk.excludeCredentials = credentialIds(pk.excludeCredentials);
        return navigator.credentials.create({ publicKey: pk });
      }).then(function (credential) {
        return post(form.getAttribute("data-finish"), {
          csrf_token: field(form, "csrf_token"), name: field(form, "name"), credential: created(credential)
        });
      }).then(function (answer) { go(answer, status, form); })
        .catch(function (error) { show(status, why(error)); mark(form, status, error && error.field); });
    });
  }

  // The second step: /login/2fa.
  var use = document.getElementById("use-passkey");
  if (use) {
    use.addEventListener("click", function () {
      var form = document.getElementById("passkey-second-factor"), status = document.getElementById("passkey-status");
      hide(status);
      var remember = document.querySelector("input[name='remember']");
      post("/login/2fa/passkey/options", { csrf_token: field(form, "csrf_token") })
        .then(function (options) {
          if (options.error) throw new Error(options.error);
          return navigator.credentials.get({ publicKey: getOptions(options) });
        }).then(function (credential) {
          return post("/login/2fa/passkey", {
            csrf_token: field(form, "csrf_token"), next: field(form, "next"),
            remember: remember && remember.checked ? "on" : "", credential: asserted(credential)
          });
        }).then(function (answer) { go(answer, status); })
        .catch(function (error) { show(status, why(error)); });
    });
  }

  // Signing in with a passkey alone: /login (a button, and autofill).
  var signIn = document.getElementById("passkey-login");
  if (signIn) {
    var form = document.getElementById("passkey-sign-in"), status = document.getElementById("passkey-status");
    var pending = null;
    var run = function (conditional) {
      if (pending) pending.abort();
      var abort = window.AbortController ? new AbortController() : null;
      pending = abort;
      return post("/login/passkey/options", { csrf_token: field(form, "csrf_token") })
        .then(function (options) {
          if (options.error) throw new Error(options.error);
          var request = { publicKey: getOptions(options) };
          if (abort) request.signal = abort.signal;
          if (conditional) request.mediation = "conditional";
          return navigator.credentials.get(request);
        }).then(function (credential) {
          return post("/login/passkey", {
            csrf_token: field(form, "csrf_token"), next: field(form, "next"), credential: asserted(credential)
          });
        }).then(function (answer) { go(answer, status); })
        .catch(function (error) {
          if (error && error.name === "AbortError") return;
          if (!conditional) show(status, why(error));
        });
    };
    signIn.addEventListener("click", function () { hide(status); run(false); });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available && form.getAttribute("data-autofill") === "on") run(true);
      });
    }
  }
})();
