// Calls to the service's REST API with the signed-in token; errors become ApiError (the
// service answered with an error body) or NetworkError (it could not be reached).

export class ApiError extends Error {
  constructor(status, { code, message, requestId, retryAfter, details }) {
    super(message || `the service answered ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code || "error";
    this.requestId = requestId ?? null;
    this.retryAfter = retryAfter ?? null;
    this.details = details ?? null;
  }
}

export class NetworkError extends Error {
  constructor(cause) {
    super("The service cannot be reached: check your connection, then retry.");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** What to tell a person about an error, in one sentence or two. */
export function describeError(error) {
  if (error instanceof NetworkError) return error.message;
  if (!(error instanceof ApiError)) return `Something went wrong in this page: ${error?.message ?? error}`;
  const quote = error.requestId ? ` (request id ${error.requestId})` : "";
  switch (error.status) {
    case 409:
      return `${capitalise(error.message)}.`;
    case 429:
      return `Too many requests: try again in ${error.retryAfter ?? "a few"} seconds.`;
    case 403:
      return `Not allowed: ${error.message}.`;
    default:
      if (error.status >= 500) return `The service failed: ${error.message}${quote}.`;
      return `${capitalise(error.message)}${quote}.`;
  }
}

function capitalise(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's error page, say): the status says enough
  }
  const error = body?.error ?? {};
  const retryAfter = response.headers.get("Retry-After");
  return new ApiError(response.status, {
    code: error.code,
    message: error.message,
    requestId: error.request_id ?? response.headers.get("X-Request-ID"),
    retryAfter: retryAfter ? Number(retryAfter) : null,
    details: error.details,
  });
}

export class Api {
  constructor(auth, { onUnauthorized }) {
    this.auth = auth;
    this.onUnauthorized = onUnauthorized;
  }

  /** The response when it is 2xx; throws ApiError or NetworkError otherwise. */
  async fetch(path, options = {}) {
    const { method = "GET", json, accept, headers = {}, signal, auth = true, retried = false } =
      options;
    if (auth && this.auth.needsRefresh()) await this.refresh().catch(() => undefined);
    const request = { method, signal, headers: { ...headers }, cache: "no-store" };
    const token = auth ? this.auth.access : null;
    if (token) request.headers.Authorization = `Bearer ${token}`;
    if (accept) request.headers.Accept = accept;
    if (json !== undefined) {
      request.headers["Content-Type"] = "application/json";
      request.body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(path, request);
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new NetworkError(error);
    }
    if (response.status === 401 && auth && !retried && this.auth.canRefresh()) {
      // the access token expired in between: renew once, then ask again
      const renewed = await this.refresh().then(
        () => true,
        () => false,
      );
      if (renewed) return this.fetch(path, { ...options, retried: true });
    }
    if (!response.ok) {
      const error = await errorFrom(response);
      // only a sign-in that was in use can end: a request sent after it ended says nothing new
      if (error.status === 401 && token && token === this.auth.access) this.onUnauthorized(error);
      throw error;
    }
    return response;
  }

  async json(path, options = {}) {
    const response = await this.fetch(path, { accept: "application/json", ...options });
    return response.status === 204 ? null : response.json();
  }

  refresh() {
    return this.auth.refresh((token) =>
      this.json("/api/v1/auth/refresh", {
        method: "POST",
        json: { refresh_token: token },
        auth: false,
      }),
    );
  }
}
