// Building the page without HTML strings.  Everything shown goes in as a
// text node or textContent, so a name, an alert or a log line from a user or
// a remote server can never become markup.  Inline styles and inline event
// handlers are refused: the Content-Security-Policy forbids them anyway.

/**
 * h('a', {class: 'x', href: '#/', on: {click: fn}}, 'text', child, [more])
 * Props: class (string or array), text, on (event -> handler), dataset,
 * value / checked (set as properties, after the children, so a <select>
 * has its options first); anything else is an attribute (true -> present,
 * false / null / undefined -> absent).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  const late = {};
  for (const [key, value] of Object.entries(props)) {
    if (key === 'value' || key === 'checked') late[key] = value;
    else setProp(node, key, value);
  }
  append(node, ...children);
  for (const [key, value] of Object.entries(late)) {
    if (value !== undefined && value !== null) node[key] = value;
  }
  return node;
}

function setProp(node, key, value) {
  if (value === undefined || value === null || value === false) return;
  if (key === 'style' || /^on[a-z]/.test(key)) {
    throw new Error(`h(): "${key}" is not allowed here: use a class or the "on" property`);
  }
  if (key === 'class') {
    node.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
  } else if (key === 'text') {
    node.textContent = String(value);
  } else if (key === 'on') {
    for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
  } else if (key === 'dataset') {
    for (const [name, v] of Object.entries(value)) node.dataset[name] = String(v);
  } else {
    node.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children: nodes, strings and numbers (as text), arrays of them; skips null and false. */
export function append(node, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces all children of node. */
export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, ...children);
}

let idCounter = 0;
/** A fresh id for label/for and aria-describedby pairs. */
export function uniqueId(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
