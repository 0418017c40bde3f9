// The page's controller: sign-in, the organization/workspace pickers, the conversations and
// their turns; the incident, policy and channel views are routed by views.js.

import { Api, ApiError, NetworkError, describeError } from "./api.js";
import { Auth } from "./auth.js";
import { Conversation } from "./conversation.js";
import { byId, show } from "./dom.js";
import { SessionList } from "./sessions.js";
import { StreamLost, followTurn } from "./sse.js";
import { Views } from "./views.js";

const API = "/api/v1";
const CHAT = `${API}/chat`;
const SSE = "text/event-stream";
const NARROW = window.matchMedia("(max-width: 760px)");
const CLUSTER_KEY = "aiops.cluster";
const ORG_KEY = "aiops.org";

const ui = {
  signin: byId("signin-view"),
  signinMessage: byId("signin-message"),
  loginForm: byId("login-form"),
  loginEmail: byId("login-email"),
  loginPassword: byId("login-password"),
  loginDemo: byId("login-demo"),
  tokenForm: byId("token-form"),
  tokenInput: byId("token-input"),
  chat: byId("chat-view"),
  userBox: byId("user-box"),
  userName: byId("user-name"),
  signOut: byId("sign-out"),
  banner: byId("cluster-banner"),
  notice: byId("notice"),
  noticeText: byId("notice-text"),
  noticeRetry: byId("notice-retry"),
  noticeDismiss: byId("notice-dismiss"),
  sidebar: byId("sidebar"),
  sidebarToggle: byId("sidebar-toggle"),
  orgSelect: byId("org-select"),
  workspaceSelect: byId("workspace-select"),
  readOnly: byId("read-only"),
  newSession: byId("new-session"),
  title: byId("session-title"),
  meta: byId("session-meta"),
  actions: byId("session-actions"),
  rename: byId("rename-session"),
  remove: byId("delete-session"),
  renameForm: byId("rename-form"),
  renameInput: byId("rename-input"),
  renameCancel: byId("rename-cancel"),
  conversation: byId("conversation"),
  composer: byId("composer"),
  input: byId("composer-input"),
  send: byId("composer-send"),
  status: byId("composer-status"),
  nav: byId("sections"),
  ops: byId("ops-view"),
  skip: byId("skip-link"),
};

const state = {
  me: null,
  org: null,
  session: null, // the open conversation (SessionRead), or null for a new one
  busy: false,
  stream: null, // AbortController of the turn being followed
};

const auth = new Auth({ onChange: () => undefined });
const api = new Api(auth, { onUnauthorized: (error) => signedOut(expiredMessage(error)) });
const conversation = new Conversation(ui.conversation, {
  onDecide: (card, approve) => decide(card, approve),
  onSession: (event) => sessionEvent(event),
});
const views = new Views({
  api,
  chat: ui.chat,
  ops: ui.ops,
  nav: ui.nav,
  skip: ui.skip,
  context: () => ({ org: state.org, orgs: state.me?.organizations ?? [] }),
  switchOrg: (org) => changeOrganization(org),
  reportError: (error, retry) => reportError(error, retry),
  onChat: () => undefined,
});
const sessions = new SessionList(byId("sessions-list"), byId("sessions-empty"), {
  onSelect: (session) => openSession(session.id),
});

// ---------------------------------------------------------------------------- notices

function notify(message, retry) {
  ui.noticeText.textContent = message;
  ui.noticeRetry.hidden = !retry;
  ui.noticeRetry.onclick = retry
    ? () => {
        hideNotice();
        retry();
      }
    : null;
  show(ui.notice);
}

function hideNotice() {
  show(ui.notice, false);
}

function reportError(error, retry) {
  if (error instanceof ApiError && error.status === 401) return; // already back at sign-in
  notify(describeError(error), retryable(error) ? retry : null);
}

function retryable(error) {
  return error instanceof NetworkError || (error instanceof ApiError && [409, 429, 502, 503, 504].includes(error.status));
}

function setStatus(text) {
  ui.status.textContent = text;
}

// ---------------------------------------------------------------------------- signing in

function expiredMessage(error) {
  return error?.message
    ? `You have been signed out: ${error.message}. Please sign in again.`
    : "You have been signed out. Please sign in again.";
}

function signedOut(message) {
  state.stream?.abort();
  auth.clear();
  state.me = null;
  state.session = null;
  views.stop();
  show(ui.userBox, false);
  show(ui.banner, false);
  hideNotice();
  show(ui.signin);
  ui.signinMessage.textContent = message ?? "";
  show(ui.signinMessage, Boolean(message));
  ui.loginEmail.focus();
}

async function login(event) {
  event.preventDefault();
  const email = ui.loginEmail.value.trim();
  const password = ui.loginPassword.value;
  if (!email || !password) return signinError("Enter your email and password.");
  try {
    const pair = await api.json(`${API}/auth/token`, { method: "POST", json: { email, password }, auth: false });
    auth.setPair(pair);
    ui.loginPassword.value = "";
    await start();
  } catch (error) {
    signinError(signinProblem(error));
  }
}

async function useToken(event) {
  event.preventDefault();
  const token = ui.tokenInput.value.trim();
  if (!token) return signinError("Paste an access token or API key.");
  auth.setPasted(token);
  try {
    await start();
    ui.tokenInput.value = "";
  } catch (error) {
    auth.clear();
    signinError(error instanceof ApiError && error.status === 401 ? "This token was not accepted." : describeError(error));
  }
}

function signinProblem(error) {
  if (error instanceof ApiError && error.status === 401) return "Wrong email or password.";
  if (error instanceof ApiError && error.status === 422) return "Enter a valid email address and a password.";
  return describeError(error);
}

function signinError(message) {
  ui.signinMessage.textContent = message;
  show(ui.signinMessage);
}

async function signOut() {
  const refresh = auth.tokens?.refresh;
  try {
    await api.fetch(`${API}/auth/logout`, { method: "POST", json: refresh ? { refresh_token: refresh } : {} });
  } catch {
    // signed out locally all the same
  }
  signedOut("You have signed out.");
}

/** The scheduled renewal of the access token. */
async function renew() {
  try {
    await api.refresh();
  } catch (error) {
    if (error instanceof ApiError) signedOut(expiredMessage(error));
    else setTimeout(renew, 30_000); // offline for now: try again
  }
}

// ---------------------------------------------------------------------------- the chat view

async function start() {
  state.me = await api.json(`${API}/auth/me`);
  ui.userName.textContent = state.me.name || state.me.email || state.me.kind;
  show(ui.userBox);
  show(ui.signin, false);
  show(ui.signinMessage, false);
  show(ui.banner, sessionStorage.getItem(CLUSTER_KEY) === "simulated");
  fillOrganizations();
  if (!state.org) {
    notify("You are not a member of any organization yet: ask an organization owner to invite you.");
    ui.composer.hidden = true;
    views.start();
    return;
  }
  ui.composer.hidden = false;
  await loadOrganization();
  if (views.start() === "chat") ui.input.focus();
}

function fillOrganizations() {
  const orgs = state.me.organizations ?? [];
  const saved = sessionStorage.getItem(ORG_KEY);
  ui.orgSelect.replaceChildren(
    ...orgs.map((org) => new Option(`${org.organization} (${org.role})`, org.organization)),
  );
  state.org = orgs.some((org) => org.organization === saved) ? saved : (orgs[0]?.organization ?? null);
  ui.orgSelect.value = state.org ?? "";
  ui.orgSelect.disabled = orgs.length < 2;
}

async function loadOrganization() {
  const org = encodeURIComponent(state.org);
  const [workspaces, list] = await Promise.all([
    api.json(`${API}/organizations/${org}/workspaces`),
    api.json(`${CHAT}/sessions?organization=${org}`),
  ]);
  const options = [new Option("No particular workspace", ""), ...workspaces.map((ws) => new Option(ws.display_name && ws.display_name !== ws.name ? `${ws.name} (${ws.display_name})` : ws.name, ws.name))];
  ui.workspaceSelect.replaceChildren(...options);
  ui.workspaceSelect.value = workspaces[0]?.name ?? "";
  sessions.render(list, null);
  newConversation();
}

/** Another organization, for the chat and the other views alike. */
async function changeOrganization(org) {
  state.org = org;
  ui.orgSelect.value = org;
  sessionStorage.setItem(ORG_KEY, org);
  try {
    await loadOrganization();
  } catch (error) {
    reportError(error, () => changeOrganization(org));
  }
  views.refresh();
}

async function refreshSessions() {
  try {
    const list = await api.json(`${CHAT}/sessions?organization=${encodeURIComponent(state.org)}`);
    sessions.render(list, state.session?.id ?? null);
  } catch (error) {
    reportError(error, refreshSessions);
  }
}

function setSession(session) {
  state.session = session;
  ui.title.textContent = session?.title ?? "New conversation";
  show(ui.actions, Boolean(session));
  show(ui.renameForm, false);
  const parts = [];
  if (session?.workspace) parts.push(`Workspace ${session.workspace}`);
  if (session?.read_only) parts.push("read-only");
  if (!session) parts.push(ui.workspaceSelect.value ? `Workspace ${ui.workspaceSelect.value}` : "No particular workspace");
  if (!session && ui.readOnly.checked) parts.push("read-only");
  ui.meta.textContent = parts.join(" · ");
  sessions.render(sessions.sessions, session?.id ?? null);
}

function stopFollowing() {
  state.stream?.abort();
  state.stream = null;
  setBusy(false);
}

function newConversation() {
  stopFollowing();
  setSession(null);
  conversation.reset();
  closeSidebarOnNarrow();
}

async function openSession(id) {
  stopFollowing();
  hideNotice();
  try {
    const detail = await api.json(`${CHAT}/sessions/${encodeURIComponent(id)}`);
    setSession(detail);
    const turn = conversation.renderHistory(detail.messages);
    if (detail.pending_approval) await showPendingApproval(detail, turn);
    closeSidebarOnNarrow();
    ui.title.focus();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      notify("This conversation no longer exists (conversations expire after a day without use).");
      await refreshSessions();
    } else reportError(error, () => openSession(id));
  }
}

async function showPendingApproval(detail, turn) {
  const approvals = await api.json(`${CHAT}/approvals?organization=${encodeURIComponent(state.org)}`);
  const found = approvals.find((approval) => approval.id === detail.pending_approval);
  const view = turn ?? conversation.startTurn();
  const last = [...conversation.cards.values()].at(-1);
  last?.setStatus("approval_required");
  if (found) {
    conversation.addApproval(view, { ...found, approval_id: found.id });
  } else {
    view.error("This conversation waits for an approval by an admin of the workspace or organization.");
  }
}

function sessionEvent(event) {
  sessionStorage.setItem(CLUSTER_KEY, event.cluster);
  show(ui.banner, event.cluster === "simulated");
  const parts = [];
  if (event.workspace) parts.push(`Workspace ${event.workspace}`);
  parts.push(`cluster: ${event.cluster === "simulated" ? "simulated twin" : event.cluster}`);
  parts.push(`model: ${event.provider}/${event.model}`);
  if (event.read_only) parts.push("read-only");
  ui.meta.textContent = parts.join(" · ");
}

// ---------------------------------------------------------------------------- turns

function setBusy(busy) {
  state.busy = busy;
  ui.send.disabled = busy;
  ui.conversation.setAttribute("aria-busy", String(busy));
  setStatus(busy ? "The assistant is answering…" : "");
}

/**
 * Follow one turn into the conversation. `open()` returns the first SSE response; if it fails
 * the turn is dropped and `onRefused(error)` decides what to say. Returns the terminal event.
 */
async function runTurn({ open, onRefused, onOpened, turn = conversation.startTurn() }) {
  const sessionId = state.session.id;
  const controller = new AbortController();
  state.stream = controller;
  setBusy(true);
  let opened = false;
  try {
    return await followTurn({
      open: async () => {
        const response = await open(controller.signal);
        opened = true;
        onOpened?.();
        return response;
      },
      reopen: (turnId, lastEventId) =>
        api.fetch(`${CHAT}/sessions/${encodeURIComponent(sessionId)}/turns/${encodeURIComponent(turnId)}/events`, {
          accept: SSE,
          headers: lastEventId ? { "Last-Event-ID": lastEventId } : {},
          signal: controller.signal,
        }),
      onEvent: (event) => turn.handle(event),
      onRetry: (attempt) => setStatus(`The connection dropped: reconnecting (attempt ${attempt})…`),
    });
  } catch (error) {
    if (error?.name === "AbortError") return null;
    if (!opened) {
      turn.finish();
      onRefused(error);
    } else if (error instanceof StreamLost) {
      turn.error(`${error.message} The answer goes on on the service.`, null, {
        label: "Retry",
        run: () => resumeTurn(error, turn),
      });
    } else {
      turn.error(describeError(error), error.code);
    }
    return null;
  } finally {
    if (state.stream === controller) {
      state.stream = null;
      setBusy(false);
      if (auth.signedIn) {
        if (document.activeElement === document.body || document.activeElement?.disabled) ui.input.focus();
        refreshSessions();
      }
    }
  }
}

function resumeTurn(lost, turn) {
  turn.restart();
  const sessionId = state.session.id;
  return runTurn({
    turn,
    open: (signal) =>
      api.fetch(`${CHAT}/sessions/${encodeURIComponent(sessionId)}/turns/${encodeURIComponent(lost.turnId)}/events`, {
        accept: SSE,
        headers: lost.lastEventId ? { "Last-Event-ID": lost.lastEventId } : {},
        signal,
      }),
    onRefused: (error) => turn.error(describeError(error), error.code),
  });
}

async function ensureSession(text) {
  if (state.session) return state.session;
  const body = { organization: state.org, title: text.split("\n")[0].slice(0, 60), read_only: ui.readOnly.checked };
  if (ui.workspaceSelect.value) body.workspace = ui.workspaceSelect.value;
  const session = await api.json(`${CHAT}/sessions`, { method: "POST", json: body });
  setSession(session);
  return session;
}

async function send(text) {
  if (state.busy || !text.trim()) return;
  hideNotice();
  ui.input.value = "";
  let bubble = null;
  try {
    const session = await ensureSession(text);
    bubble = conversation.addUser(text);
    await runTurn({
      open: (signal) =>
        api.fetch(`${CHAT}/sessions/${encodeURIComponent(session.id)}/messages`, {
          method: "POST",
          json: { content: text },
          accept: SSE,
          signal,
        }),
      onOpened: () => conversation.supersedeApprovals(),
      onRefused: (error) => refused(error, text, bubble),
    });
  } catch (error) {
    refused(error, text, bubble);
  }
}

/** The message was not taken: give it back to the composer and say why. */
function refused(error, text, bubble) {
  bubble?.remove();
  if (!ui.input.value) ui.input.value = text;
  reportError(error, () => send(ui.input.value));
  if (error instanceof ApiError && error.status === 409) setStatus("This conversation is already answering.");
}

/** Approve or deny from a card: resolves once the service accepted, then the turn streams on. */
function decide(card, approve) {
  if (state.busy) return Promise.reject(new Error("Wait for the current answer to finish, then decide."));
  const id = encodeURIComponent(card.approval.approval_id);
  return new Promise((resolve, reject) => {
    runTurn({
      open: async (signal) => {
        try {
          const response = await api.fetch(`${CHAT}/approvals/${id}/${approve ? "approve" : "deny"}`, {
            method: "POST",
            accept: SSE,
            signal,
          });
          resolve();
          return response;
        } catch (error) {
          reject(Object.assign(new Error(describeError(error)), { status: error.status }));
          throw error;
        }
      },
      onRefused: () => undefined, // the card shows it
    });
  });
}

// ---------------------------------------------------------------------------- sidebar

function closeSidebarOnNarrow() {
  if (NARROW.matches) toggleSidebar(false);
}

function toggleSidebar(open = ui.sidebarToggle.getAttribute("aria-expanded") !== "true") {
  ui.sidebarToggle.setAttribute("aria-expanded", String(open));
  ui.sidebar.classList.toggle("open", open);
}

async function renameSession(event) {
  event.preventDefault();
  const title = ui.renameInput.value.trim();
  if (!title || !state.session) return;
  try {
    const session = await api.json(`${CHAT}/sessions/${encodeURIComponent(state.session.id)}`, { method: "PATCH", json: { title } });
    setSession({ ...state.session, ...session });
    await refreshSessions();
    ui.title.focus();
  } catch (error) {
    reportError(error);
  }
}

async function deleteSession() {
  if (!state.session || !window.confirm(`Delete the conversation “${state.session.title}”?`)) return;
  try {
    await api.fetch(`${CHAT}/sessions/${encodeURIComponent(state.session.id)}`, { method: "DELETE" });
    newConversation();
    await refreshSessions();
    ui.input.focus();
  } catch (error) {
    reportError(error);
  }
}

// ---------------------------------------------------------------------------- wiring

function wire() {
  ui.loginForm.addEventListener("submit", login);
  ui.tokenForm.addEventListener("submit", useToken);
  ui.loginDemo.addEventListener("click", () => {
    ui.loginEmail.value = "admin@demo.local";
    ui.loginPassword.value = "hexabase-demo";
    byId("login-submit").focus();
  });
  ui.signOut.addEventListener("click", signOut);
  ui.noticeDismiss.addEventListener("click", hideNotice);
  ui.sidebarToggle.addEventListener("click", () => toggleSidebar());
  ui.orgSelect.addEventListener("change", () => changeOrganization(ui.orgSelect.value));
  for (const picker of [ui.workspaceSelect, ui.readOnly]) {
    picker.addEventListener("change", () => {
      if (!state.session) setSession(null);
    });
  }
  ui.newSession.addEventListener("click", () => {
    newConversation();
    ui.input.focus();
  });
  ui.rename.addEventListener("click", () => {
    ui.renameInput.value = state.session?.title ?? "";
    show(ui.renameForm);
    ui.renameInput.focus();
  });
  ui.renameCancel.addEventListener("click", () => {
    show(ui.renameForm, false);
    ui.rename.focus();
  });
  ui.renameForm.addEventListener("submit", renameSession);
  ui.remove.addEventListener("click", deleteSession);
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send(ui.input.value);
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send(ui.input.value);
    }
  });
  NARROW.addEventListener("change", () => toggleSidebar(!NARROW.matches));
  toggleSidebar(!NARROW.matches);
  auth.onDue(renew);
  setInterval(() => conversation.tick(), 30_000);
}

async function boot() {
  wire();
  if (!auth.signedIn) return signedOut();
  try {
    await start();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    signedOut(describeError(error));
  }
}

boot();
