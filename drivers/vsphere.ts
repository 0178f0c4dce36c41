/**
 * A vSphere API session over HTTPS (vCenter or ESXi): SOAP calls to
 * https://HOST/sdk with the session cookie `vmware_soap_session` that Login
 * sets, and reads of datastore files (https://HOST/folder/...) with the same
 * cookie. TLS is verified against the system CAs or --ca-file unless the
 * user asked for no_verify=1. The password and the cookie are never put in
 * a URL, argv, log or error: the cookie leaves this module only as a 0600
 * file for nbdkit (`cookie=+FILE`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { SourceError } from '../src/errors.js';
import {
  continueRetrievePropertiesExBody,
  createContainerViewBody,
  destroyViewBody,
  findByInventoryPathBody,
  loginBody,
  logoutBody,
  parseReturnedMoRef,
  parseRetrieveResult,
  parseServiceContent,
  parseSoapReply,
  retrievePropertiesExBody,
  retrieveServiceContentBody,
  soapEnvelope,
  SoapFault,
  type MoRef,
  type ObjectContent,
  type PropertyTarget,
  type ServiceContent,
} from './vsphere-soap.js';
import { parseTaskInfo, type TaskInfo } from './vsphere-snapshots.js';
import type { XmlNode } from '../src/text/xml-tree.js';

/** Where the API is and how its certificate is checked. */
export interface VsphereEndpoint {
  host: string;
  port?: number;
  /** no_verify=1: do not verify the certificate (the user's explicit choice). */
  noVerify: boolean;
  /** CA bundle (--ca-file) instead of the system CAs. */
  caFile?: string;
}

/** The SOAPAction vim25 version we speak: 6.5 has every property v2v reads and every vCenter/ESXi in support answers it. */
const SOAP_ACTION = 'urn:vim25/6.5';
/** One API call or file read that gets no answer in this time fails (seconds count in preflight). */
const REQUEST_TIMEOUT_MS = 60_000;
/** The stream buffer of a datastore data read (openRange). */
const DATA_HIGH_WATER_MARK = 2 ** 20;
/** Logout at the end must not hold up cleanup when the server is gone. */
const LOGOUT_TIMEOUT_MS = 5_000;

/** "host[:port]" as shown in messages. */
export function endpointName(e: VsphereEndpoint): string {
  return `${e.host.includes(':') ? `[${e.host}]` : e.host}${e.port !== undefined ? `:${e.port}` : ''}`;
}

/** A logged-in session. */
export class VsphereSession {
  private loggedIn = true;
  /** The agent of datastore data reads (openRange), apart from the API calls' so a slow read never queues a call. */
  private dataAgent: https.Agent | undefined;

  private constructor(
    readonly endpoint: VsphereEndpoint,
    private readonly agent: https.Agent,
    private readonly tls: https.AgentOptions,
    private readonly cookie: string,
    readonly content: ServiceContent,
  ) {}

  /**
   * Connects and logs in. Throws SourceError naming the fix for an
   * unreachable host, an unverified certificate or a refused login.
   */
  static async login(endpoint: VsphereEndpoint, user: string, password: string): Promise<VsphereSession> {
    const ca = endpoint.caFile !== undefined ? await readCa(endpoint.caFile) : undefined;
    const tls: https.AgentOptions = { rejectUnauthorized: !endpoint.noVerify, ...(ca ? { ca } : {}) };
    const agent = new https.Agent({ keepAlive: true, maxSockets: 2, ...tls });
    try {
      const first = await soapCall(endpoint, agent, undefined, retrieveServiceContentBody(), 'RetrieveServiceContent');
      const content = parseServiceContent(first.reply);
      const login = await soapCall(endpoint, agent, undefined, loginBody(content.sessionManager, user, password), 'Login');
      const cookie = sessionCookie(login.setCookie);
      if (cookie === undefined)
        throw new SourceError(
          `vSphere at ${endpointName(endpoint)} accepted the login but set no session cookie: check that -ic names a vCenter or ESXi host.`,
        );
      return new VsphereSession(endpoint, agent, tls, cookie, content);
    } catch (error) {
      agent.destroy();
      if (error instanceof SoapFault && /InvalidLogin|NoPermission/.test(error.type ?? '')) {
        throw new SourceError(
          `vSphere at ${endpointName(endpoint)} refused the login of "${user}" (${error.type}): check the user in the -ic URI and the password in the -ip file.`,
        );
      }
      throw asSourceError(endpoint, 'Login', error);
    }
  }

  /** Calls one method; returns its response element. */
  async call(method: string, body: string): Promise<XmlNode> {
    try {
      return (await soapCall(this.endpoint, this.agent, this.cookie, body, method)).reply;
    } catch (error) {
      throw asSourceError(this.endpoint, method, error);
    }
  }

  /**
   * Calls one method, but a SOAP fault is thrown as the {@link SoapFault}
   * itself (its vim25 type kept), for callers that decide by it
   * (QueryChangedDiskAreas' FileFault means "copy everything"); transport
   * errors are SourceErrors as with {@link call}.
   */
  async callKeepingFaults(method: string, body: string): Promise<XmlNode> {
    try {
      return (await soapCall(this.endpoint, this.agent, this.cookie, body, method)).reply;
    } catch (error) {
      if (error instanceof SoapFault) throw error;
      throw asSourceError(this.endpoint, method, error);
    }
  }

  /**
   * Waits for a task to end (polling its `info`, 0.1 s then up to 1 s apart)
   * and returns its TaskInfo: state "success" or "error". Throws SourceError
   * when it has not ended after `timeoutMs`, and the signal's reason when aborted.
   */
  async waitForTask(task: MoRef, what: string, timeoutMs: number, signal?: AbortSignal): Promise<TaskInfo> {
    const deadline = Date.now() + timeoutMs;
    let delay = 100;
    for (;;) {
      const [obj] = await this.retrieve('Task', ['info'], { objects: [task] });
      const info = parseTaskInfo(obj?.props.get('info'));
      if (info.state === 'success' || info.state === 'error') return info;
      if (Date.now() > deadline) {
        throw new SourceError(
          `vSphere at ${endpointName(this.endpoint)} did not finish ${what} within ${Math.round(timeoutMs / 1000)} s (task ${task.value} is ${info.state}): check the task in the vSphere client.`,
        );
      }
      await sleep(delay, undefined, signal ? { signal } : undefined);
      delay = Math.min(delay * 2, 1000);
    }
  }

  /**
   * Opens bytes [start, end) of a datastore file (a Range request, with the
   * session cookie) as a stream the caller reads at its own pace. Throws
   * SourceError naming the fix for any status but 206 (200 for a whole file
   * from 0, when the server ignores Range, is refused too: the caller asked
   * for a part).
   */
  async openRange(url: string, start: number, end: number, signal?: AbortSignal): Promise<IncomingMessage> {
    this.dataAgent ??= new https.Agent({ keepAlive: true, maxSockets: 8, ...this.tls });
    const agent = this.dataAgent;
    try {
      return await new Promise<IncomingMessage>((resolvePromise, reject) => {
        const req = https.request(
          url,
          {
            method: 'GET',
            agent,
            timeout: REQUEST_TIMEOUT_MS,
            headers: { Cookie: this.cookie, Range: `bytes=${start}-${end - 1}` },
            // Big reads: measured 134 → 214 MiB/s from the test's simulator with 1 MiB (docs/warm-migration.md).
            // Node 20 takes it (http.request's highWaterMark, v20.1); @types/node 20's RequestOptions does not list it.
            ...({ highWaterMark: DATA_HIGH_WATER_MARK } as https.RequestOptions),
            ...(signal ? { signal } : {}),
          },
          (response) => {
            if (response.statusCode !== 206) {
              response.resume();
              const status = response.statusCode ?? 0;
              reject(
                new SourceError(
                  status === 200
                    ? `The datastore at ${endpointName(this.endpoint)} ignored a Range request for ${url}: v2v reads changed areas by Range and cannot use this server.`
                    : `The datastore file ${url} returned HTTP ${status} for bytes ${start}-${end - 1}: ${status === 401 || status === 403 ? "the session may have expired or lacks the Datastore.Browse privilege: check the user's role" : status === 416 ? 'the file is smaller than the disk: check the VM in vSphere' : 'check the datastore and the server'}.`,
                ),
              );
              return;
            }
            resolvePromise(response);
          },
        );
        req.on('timeout', () =>
          req.destroy(Object.assign(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
        );
        req.on('error', reject);
        req.end();
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : error;
      throw asSourceError(this.endpoint, `reading ${url}`, error);
    }
  }

  /** `SearchIndex.FindByInventoryPath`: the object at "DC/vm/FOLDER/NAME", or undefined. */
  async findByInventoryPath(inventoryPath: string): Promise<MoRef | undefined> {
    return parseReturnedMoRef(await this.call('FindByInventoryPath', findByInventoryPathBody(this.content.searchIndex, inventoryPath)));
  }

  /** Properties `paths` of objects of `type`: given objects, or all of that type under `container` (a ContainerView, destroyed after). */
  async retrieve(type: string, paths: string[], target: { objects: MoRef[] } | { container: MoRef }): Promise<ObjectContent[]> {
    let view: MoRef | undefined;
    let spec: PropertyTarget;
    if ('container' in target) {
      view = parseReturnedMoRef(
        await this.call('CreateContainerView', createContainerViewBody(this.content.viewManager, target.container, [type], true)),
      );
      if (view === undefined)
        throw new SourceError(`vSphere at ${endpointName(this.endpoint)} created no container view: check the server.`);
      spec = { view };
    } else {
      spec = target;
    }
    try {
      const pc = this.content.propertyCollector;
      let page = parseRetrieveResult(await this.call('RetrievePropertiesEx', retrievePropertiesExBody(pc, type, paths, spec)));
      const objects = [...page.objects];
      while (page.token !== undefined) {
        page = parseRetrieveResult(await this.call('ContinueRetrievePropertiesEx', continueRetrievePropertiesExBody(pc, page.token)));
        objects.push(...page.objects);
      }
      return objects;
    } finally {
      if (view !== undefined) await this.call('DestroyView', destroyViewBody(view)).catch(() => undefined);
    }
  }

  /** Reads a datastore file (its first `maxBytes` by a Range request) with the session cookie. */
  async readFile(url: string, maxBytes?: number): Promise<Buffer> {
    const headers: Record<string, string> = { Cookie: this.cookie };
    if (maxBytes !== undefined) headers['Range'] = `bytes=0-${maxBytes - 1}`;
    try {
      const { status, body } = await request(url, { method: 'GET', headers, agent: this.agent }, undefined, maxBytes);
      if (status !== 200 && status !== 206) {
        const hint =
          status === 404
            ? 'the VM names a disk file that is not on the datastore: check the VM in vSphere'
            : status === 401 || status === 403
              ? "the session may have expired or lacks the Datastore.Browse privilege: check the user's role"
              : 'check the datastore and the server';
        throw new SourceError(`The datastore file ${url} returned HTTP ${status}: ${hint}.`);
      }
      return maxBytes !== undefined ? body.subarray(0, maxBytes) : body;
    } catch (error) {
      throw asSourceError(this.endpoint, `reading ${url}`, error);
    }
  }

  /** Writes the session cookie to a new 0600 file for nbdkit (`cookie=+FILE`). */
  async writeCookieFile(path: string): Promise<void> {
    await writeFile(path, this.cookie, { mode: 0o600, flag: 'wx' });
  }

  /** Ends the session (best effort, bounded): after this the cookie no longer authenticates. */
  async logout(): Promise<void> {
    if (!this.loggedIn) return;
    this.loggedIn = false;
    try {
      await soapCall(this.endpoint, this.agent, this.cookie, logoutBody(this.content.sessionManager), 'Logout', LOGOUT_TIMEOUT_MS);
    } finally {
      this.agent.destroy();
      this.dataAgent?.destroy();
    }
  }
}

/** The `name=value` part of the vmware_soap_session Set-Cookie header. */
export function sessionCookie(setCookie: string[] | undefined): string | undefined {
  for (const c of setCookie ?? []) {
    const pair = c.split(';')[0]?.trim();
    if (pair?.startsWith('vmware_soap_session=')) return pair;
  }
  return undefined;
}

async function readCa(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new SourceError(
      `Cannot read the CA file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the --ca-file path.`,
    );
  }
}

interface SoapResult {
  reply: XmlNode;
  setCookie?: string[];
}

async function soapCall(
  endpoint: VsphereEndpoint,
  agent: https.Agent,
  cookie: string | undefined,
  body: string,
  method: string,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<SoapResult> {
  const url = `https://${endpointName(endpoint)}/sdk`;
  const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: SOAP_ACTION };
  if (cookie !== undefined) headers['Cookie'] = cookie;
  const response = await request(url, { method: 'POST', headers, agent }, soapEnvelope(body), undefined, timeoutMs);
  // A fault comes with HTTP 500 and a SOAP body; anything else that is not 200 is not the vSphere API.
  if (response.status !== 200 && response.status !== 500) {
    throw new SourceError(`${url} answered ${method} with HTTP ${response.status}: check that -ic names a vCenter or ESXi host.`);
  }
  return { reply: parseSoapReply(response.body.toString('utf8')), ...(response.setCookie ? { setCookie: response.setCookie } : {}) };
}

interface HttpResult {
  status: number;
  body: Buffer;
  setCookie?: string[];
}

function request(
  url: string,
  options: https.RequestOptions,
  body: string | undefined,
  maxBytes: number | undefined,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<HttpResult> {
  return new Promise<HttpResult>((resolvePromise, reject) => {
    const req = https.request(url, { ...options, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      let length = 0;
      const done = (): void =>
        resolvePromise({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ...(response.headers['set-cookie'] ? { setCookie: response.headers['set-cookie'] } : {}),
        });
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        // A server that ignores Range sends the whole file: stop once we have enough.
        if (maxBytes !== undefined && length >= maxBytes) {
          response.destroy();
          done();
        }
      });
      response.on('end', done);
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

/** Turns a transport error or fault into one sentence naming the fix. */
function asSourceError(endpoint: VsphereEndpoint, what: string, error: unknown): Error {
  if (error instanceof SourceError) return error;
  const host = endpointName(endpoint);
  if (error instanceof SoapFault) {
    return new SourceError(
      `vSphere at ${host} failed ${what}${error.type ? ` (${error.type})` : ''}: ${error.faultString.replace(/\.$/, '')}; check the -ic URI and the user's permissions.`,
    );
  }
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code)) {
    return new SourceError(
      `The TLS certificate of ${host} cannot be verified (${code}): pass the CA that signed it with --ca-file FILE, or add "?no_verify=1" to the -ic URI to skip the check.`,
    );
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN/.test(code)) {
    return new SourceError(
      `Cannot reach vSphere at ${host} (${code}) while ${what === 'Login' ? 'logging in' : what}: check the host and port in the -ic URI and the network.`,
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}
