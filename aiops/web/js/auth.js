// Who is signed in: the tokens, kept in sessionStorage (this tab only, gone when it closes),
// and refreshed with the refresh token a minute before the access token expires.

const STORAGE_KEY = "aiops.auth";
const REFRESH_MARGIN_MS = 60_000;
const MIN_REFRESH_DELAY_MS = 5_000;

export class Auth {
  constructor({ onChange }) {
    this.onChange = onChange;
    this.tokens = load();
    this.timer = null;
    this.refreshing = null;
    this.schedule();
  }

  get signedIn() {
    return Boolean(this.tokens?.access);
  }

  get access() {
    return this.tokens?.access ?? null;
  }

  /** From `POST /auth/token` or `/auth/refresh`. */
  setPair(pair) {
    this.set({
      access: pair.access_token,
      refresh: pair.refresh_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
    });
  }

  /** A pasted access token (expiry read from the JWT when it is one) or API key. */
  setPasted(token) {
    this.set({ access: token, refresh: null, expiresAt: jwtExpiry(token) });
  }

  set(tokens) {
    this.tokens = tokens;
    save(tokens);
    this.schedule();
    this.onChange?.(this);
  }

  clear() {
    this.tokens = null;
    save(null);
    clearTimeout(this.timer);
    this.onChange?.(this);
  }

  /** True when the access token is about to expire and a refresh token can renew it. */
  needsRefresh() {
    const { refresh, expiresAt } = this.tokens ?? {};
    return Boolean(refresh && expiresAt && expiresAt - Date.now() < REFRESH_MARGIN_MS / 2);
  }

  canRefresh() {
    return Boolean(this.tokens?.refresh);
  }

  /** One refresh at a time; `exchange(refreshToken)` returns the new pair. */
  refresh(exchange) {
    if (!this.refreshing) {
      const token = this.tokens?.refresh;
      this.refreshing = (async () => {
        try {
          if (!token) throw new Error("no refresh token");
          this.setPair(await exchange(token));
        } finally {
          this.refreshing = null;
        }
      })();
    }
    return this.refreshing;
  }

  /** `run` is called when the access token is due for renewal. */
  onDue(run) {
    this.due = run;
    this.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    const { refresh, expiresAt } = this.tokens ?? {};
    if (!refresh || !expiresAt || !this.due) return;
    const delay = Math.max(expiresAt - Date.now() - REFRESH_MARGIN_MS, MIN_REFRESH_DELAY_MS);
    this.timer = setTimeout(() => this.due(), delay);
  }
}

function load() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    return stored && typeof stored.access === "string" ? stored : null;
  } catch {
    return null;
  }
}

function save(tokens) {
  try {
    if (tokens) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the sign-in lasts as long as the page
  }
}

function jwtExpiry(token) {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  try {
    const payload = JSON.parse(atob(parts[1].replace(/-/g, "+").replace(/_/g, "/")));
    return typeof payload.exp === "number" ? payload.exp * 1000 : null;
  } catch {
    return null;
  }
}
