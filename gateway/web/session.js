// The signed-in user's token: kept in sessionStorage (this tab only), never in a URL the server sees.
//
// `todo up` prints a link /#token=<jwt>; an identity provider's redirect may use
// #access_token=<jwt>. A fragment never reaches the server; it is moved to sessionStorage at
// once and removed from the address bar and history.
const KEY = "todo.board.token";

export function takeToken() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const fromLink = fragment.get("token") ?? fragment.get("access_token");
  if (fromLink) {
    window.sessionStorage.setItem(KEY, fromLink.trim());
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  }
  return window.sessionStorage.getItem(KEY);
}

export function saveToken(token) {
  window.sessionStorage.setItem(KEY, token.trim());
}

export function forgetToken() {
  window.sessionStorage.removeItem(KEY);
}

// The token's subject (the user id), to show who is signed in; the server checks the token.
export function userOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(window.atob(payload)).sub ?? "";
  } catch {
    return "";
  }
}
