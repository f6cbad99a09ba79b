// Forms: labelled fields, and errors shown where they belong - next to the
// field the server names in `field`, else at the top of the form.

import { h, uniqueId } from './dom.js';
import { ApiError, isAbort } from './api.js';

/**
 * A labelled input or select with room for a hint and an error.
 * opts: label, name, type ('text', 'password', 'select', ...), value,
 * options (for select: strings or {value, label}), hint, and any input
 * attribute (required, placeholder, autocomplete, list, min, max...).
 */
export function field(opts) {
  const { label, name, type = 'text', value, options, hint, class: cls, ...attrs } = opts;
  const id = uniqueId(name.replace(/[^a-z0-9]/gi, '-'));
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const common = { id, name, 'aria-describedby': [hintId, errorId].filter(Boolean).join(' '), ...attrs };
  let control;
  if (type === 'select') {
    control = h('select', { ...common, value }, options.map(optionNode)); // no value: the first option
  } else {
    control = h('input', { ...common, type, value: value ?? '' });
  }
  return h('div', { class: ['field', cls] },
    h('label', { for: id, text: label }),
    control,
    hint ? h('p', { id: hintId, class: 'hint', text: hint }) : null,
    h('p', { id: errorId, class: 'field-error', hidden: true }));
}

function optionNode(option) {
  const { value, label } = typeof option === 'string' ? { value: option, label: option } : option;
  return h('option', { value, text: label });
}

/**
 * A form that runs onSubmit(values, form) when sent.  Whatever onSubmit
 * returns (a string or a node) is shown as its success message; an
 * ApiError it throws is shown next to its field.
 */
export function form({ submitLabel, onSubmit, class: cls }, ...children) {
  const node = h('form', { class: ['form', cls], novalidate: true },
    h('p', { class: 'form-message', 'aria-live': 'polite', hidden: true }),
    children,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', text: submitLabel })));
  bindForm(node, onSubmit);
  return node;
}

/** Gives an existing form (the login form of index.html) the behaviour of form(). */
export function bindForm(node, onSubmit) {
  node.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(node);
    if (!checkFields(node)) return;
    setBusy(node, true);
    try {
      const message = await onSubmit(formValues(node), node);
      if (message && node.isConnected) showMessage(node, message, 'ok');
    } catch (err) {
      if (!isAbort(err) && !err.sessionEnded && node.isConnected) showError(node, err);
      if (!(err instanceof ApiError) && !isAbort(err)) console.error(err);
    } finally {
      setBusy(node, false);
    }
  });
}

/** The second password field must repeat the first: checked as the browser checks required fields. */
export function matchPasswords(node) {
  const check = () => {
    const first = node.elements.namedItem('password');
    const second = node.elements.namedItem('password2');
    second.setCustomValidity(second.value && first.value !== second.value ? 'The two passwords differ: type the same one twice.' : '');
  };
  node.addEventListener('input', check);
  node.addEventListener('submit', check, { capture: true });
}

/** name -> value of a form's named controls (text trimmed, passwords as typed). */
function formValues(node) {
  const out = {};
  for (const el of node.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === 'checkbox') out[el.name] = el.checked;
    else if (el.type === 'password') out[el.name] = el.value;
    else out[el.name] = el.value.trim();
  }
  return out;
}

/** Shows err (an ApiError or any Error) next to its field, or at the top of the form. */
function showError(node, err) {
  const message = err instanceof ApiError ? err.message : 'Something went wrong on this page: reload it and try again.';
  const control = err instanceof ApiError ? findControl(node, err.field) : null;
  if (control) {
    setFieldError(control, message);
    control.focus();
  } else {
    showMessage(node, message, 'error');
  }
}

/** A message at the top of the form: kind 'ok', 'error' or 'info'. */
export function showMessage(node, message, kind) {
  const box = node.querySelector('.form-message');
  box.replaceChildren(message instanceof Node ? message : document.createTextNode(message));
  box.className = `form-message ${kind}`;
  box.hidden = false;
}

function findControl(node, fieldName) {
  if (!fieldName) return null;
  const names = [fieldName, `policies.${fieldName}`, fieldName.replace(/^policies\./, '')];
  for (const name of names) {
    const found = node.elements.namedItem(name);
    if (found) return found instanceof RadioNodeList ? found[0] : found;
  }
  return null;
}

function setFieldError(control, message) {
  const box = control.closest('.field')?.querySelector('.field-error');
  control.setAttribute('aria-invalid', 'true');
  if (box) {
    box.textContent = message;
    box.hidden = false;
  } else {
    showMessage(control.form, message, 'error');
  }
}

function clearErrors(node) {
  const box = node.querySelector('.form-message');
  if (box) box.hidden = true;
  for (const el of node.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of node.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function checkFields(node) {
  let first = null;
  for (const el of node.elements) {
    if (!el.willValidate || el.checkValidity()) continue;
    setFieldError(el, el.validationMessage);
    first = first || el;
  }
  if (first) first.focus();
  return !first;
}

function setBusy(node, busy) {
  node.toggleAttribute('aria-busy', busy);
  for (const button of node.querySelectorAll('button[type=submit]')) button.disabled = busy;
}
