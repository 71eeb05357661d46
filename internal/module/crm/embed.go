package crm

import (
	"encoding/json"
	"strings"
)

// EmbedScript is the script a site includes to show a web form:
//
//	<script src="https://tenon.example.com/api/v1/public/forms/KEY/embed.js" async></script>
//
// It renders the form just before its own tag (or into an element with
// id "tenon-form-KEY" when there is one), labels it in Chinese or English
// by the page's language (data-lang="en" on the tag chooses), hides the
// honeypot field, and posts the values form-encoded (a request a browser
// sends across origins without a pre-flight) to the endpoint next to the
// script's own address.
func EmbedScript(f PublicForm) string {
	cfg, _ := json.Marshal(map[string]any{"key": f.Key, "name": f.Name, "thanks": f.ThankYou, "honeypot": Honeypot})
	return strings.Replace(embedJS, "__CONFIG__", string(cfg), 1)
}

const embedJS = `(function () {
  "use strict";
  var cfg = __CONFIG__;
  var me = document.currentScript;
  var endpoint = me && me.src ? me.src.replace(/\/embed\.js(\?.*)?$/, "") : "";
  var lang = (me && me.getAttribute("data-lang")) || document.documentElement.lang || navigator.language || "zh-CN";
  var en = /^en/i.test(lang);
  var T = en ? {company: "Company", contact_name: "Your name", phone: "Phone", email: "E-mail", requirement: "What do you need?",
      submit: "Send", sending: "Sending…", thanks: "Thank you, we will be in touch soon.", failed: "Sending failed, please try again later.",
      required: "Please fill in the company and a phone or e-mail."}
    : {company: "公司名称", contact_name: "姓名", phone: "电话", email: "邮箱", requirement: "需求描述",
      submit: "提交", sending: "提交中…", thanks: "提交成功，我们会尽快与您联系。", failed: "提交失败，请稍后再试。",
      required: "请填写公司名称，以及电话或邮箱。"};
  var form = document.createElement("form");
  form.className = "tenon-form";
  form.setAttribute("novalidate", "");
  form.style.cssText = "display:grid;gap:8px;max-width:420px;font:14px sans-serif";
  function field(name, type) {
    var label = document.createElement("label");
    label.style.cssText = "display:grid;gap:4px";
    label.appendChild(document.createTextNode(T[name]));
    var input = document.createElement(type === "textarea" ? "textarea" : "input");
    if (type !== "textarea") { input.type = type; }
    input.name = name;
    input.style.cssText = "padding:6px;border:1px solid #ccc;border-radius:4px;font:inherit";
    label.appendChild(input);
    form.appendChild(label);
  }
  field("company", "text"); field("contact_name", "text"); field("phone", "tel"); field("email", "email"); field("requirement", "textarea");
  var trap = document.createElement("input");
  trap.type = "text"; trap.name = cfg.honeypot; trap.tabIndex = -1; trap.autocomplete = "off";
  trap.setAttribute("aria-hidden", "true");
  trap.style.cssText = "position:absolute;left:-10000px;width:1px;height:1px;opacity:0";
  form.appendChild(trap);
  var button = document.createElement("button");
  button.type = "submit"; button.textContent = T.submit;
  button.style.cssText = "padding:8px;border:0;border-radius:4px;background:#1677ff;color:#fff;font:inherit;cursor:pointer";
  form.appendChild(button);
  var note = document.createElement("p");
  note.setAttribute("role", "status");
  form.appendChild(note);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new URLSearchParams(new FormData(form));
    if (!data.get("company") || (!data.get("phone") && !data.get("email"))) { note.textContent = T.required; return; }
    button.disabled = true; note.textContent = T.sending;
    fetch(endpoint, {method: "POST", body: data, headers: {"Accept": "application/json"}})
      .then(function (res) { return res.json().then(function (body) { return {ok: res.ok, body: body}; }); })
      .then(function (r) {
        if (!r.ok) { throw new Error((r.body && r.body.detail) || T.failed); }
        form.reset(); note.textContent = cfg.thanks || T.thanks;
      })
      .catch(function (e) { note.textContent = (e && e.message) || T.failed; })
      .then(function () { button.disabled = false; });
  });
  var slot = document.getElementById("tenon-form-" + cfg.key);
  if (slot) { slot.appendChild(form); } else if (me && me.parentNode) { me.parentNode.insertBefore(form, me); }
})();
`
