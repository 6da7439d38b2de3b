// SignalR's HTTP client for where there is no browser: the platform's own fetch. The official client would
// otherwise reach for node-only packages (node-fetch, tough-cookie, ws) with require(), which a single
// script file cannot carry.
import { AbortError, HttpClient, HttpError, HttpResponse, TimeoutError } from '@microsoft/signalr';

export class FetchHttpClient extends HttpClient {
  async send(request) {
    if (request.abortSignal && request.abortSignal.aborted) {
      throw new AbortError();
    }

    const controller = new AbortController();
    let timedOut = false;
    if (request.abortSignal) {
      request.abortSignal.onabort = () => controller.abort();
    }

    const timer = request.timeout ? setTimeout(() => { timedOut = true; controller.abort(); }, request.timeout) : null;
    let response;
    try {
      response = await fetch(request.url, {
        method: request.method,
        headers: { 'X-Requested-With': 'XMLHttpRequest', ...request.headers },
        body: request.content,
        signal: controller.signal,
      });
    } catch (error) {
      if (timedOut) {
        throw new TimeoutError();
      }

      if (controller.signal.aborted) {
        throw new AbortError();
      }

      throw error;
    } finally {
      if (timer) {
        clearTimeout(timer);
      }

      if (request.abortSignal) {
        request.abortSignal.onabort = null;
      }
    }

    if (!response.ok) {
      throw new HttpError(response.statusText || `status ${response.status}`, response.status);
    }

    const content = request.responseType === 'arraybuffer' ? await response.arrayBuffer() : await response.text();
    return new HttpResponse(response.status, response.statusText, content);
  }
}
