/**
 * The vSphere Web Services (SOAP, namespace urn:vim25) messages v2v sends and
 * the replies it reads, as pure functions: request bodies are built as text,
 * replies are parsed with xml2js into typed values. The HTTPS session that
 * sends them is drivers/vsphere.ts.
 *
 * Reference: the vSphere Web Services API (vim25) — ServiceInstance,
 * SessionManager, SearchIndex, ViewManager, PropertyCollector.
 */
import { asNode, child, children, parseXmlTree, textOf, type XmlNode } from '../src/text/xml-tree.js';

/** A managed object reference: `<_this type="VirtualMachine">vm-42</_this>`. */
export interface MoRef {
  type: string;
  value: string;
}

/** The managed objects of ServiceContent that v2v uses. */
export interface ServiceContent {
  rootFolder: MoRef;
  propertyCollector: MoRef;
  viewManager: MoRef;
  sessionManager: MoRef;
  searchIndex: MoRef;
  /** "VirtualCenter" (vCenter) or "HostAgent" (ESXi). */
  apiType: string;
  apiVersion: string;
}

/** A SOAP fault: `type` is the vim25 fault (InvalidLogin, ManagedObjectNotFound...) when given. */
export class SoapFault extends Error {
  constructor(
    readonly faultString: string,
    readonly type: string | undefined,
  ) {
    super(faultString);
    this.name = 'SoapFault';
  }
}

/** The ServiceInstance every session starts from. */
export const SERVICE_INSTANCE: MoRef = { type: 'ServiceInstance', value: 'ServiceInstance' };

/** Escapes text for an XML element or attribute. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function moRef(tag: string, ref: MoRef): string {
  return `<${tag} type="${xmlEscape(ref.type)}">${xmlEscape(ref.value)}</${tag}>`;
}

/** Wraps one method call in a SOAP envelope. */
export function soapEnvelope(body: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ' +
    'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' +
    `<soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`
  );
}

/** `RetrieveServiceContent` on the ServiceInstance. */
export function retrieveServiceContentBody(): string {
  return `<RetrieveServiceContent xmlns="urn:vim25">${moRef('_this', SERVICE_INSTANCE)}</RetrieveServiceContent>`;
}

/** `Login`: the password is in the request body only (HTTPS), never in a URL or argv. */
export function loginBody(sessionManager: MoRef, user: string, password: string): string {
  return (
    `<Login xmlns="urn:vim25">${moRef('_this', sessionManager)}` +
    `<userName>${xmlEscape(user)}</userName><password>${xmlEscape(password)}</password></Login>`
  );
}

/** `Logout` of the current session. */
export function logoutBody(sessionManager: MoRef): string {
  return `<Logout xmlns="urn:vim25">${moRef('_this', sessionManager)}</Logout>`;
}

/** `FindByInventoryPath`, e.g. "DC0/vm/web01". */
export function findByInventoryPathBody(searchIndex: MoRef, inventoryPath: string): string {
  return `<FindByInventoryPath xmlns="urn:vim25">${moRef('_this', searchIndex)}<inventoryPath>${xmlEscape(inventoryPath)}</inventoryPath></FindByInventoryPath>`;
}

/** `CreateContainerView` of the objects of `types` under `container`. */
export function createContainerViewBody(viewManager: MoRef, container: MoRef, types: string[], recursive: boolean): string {
  return (
    `<CreateContainerView xmlns="urn:vim25">${moRef('_this', viewManager)}${moRef('container', container)}` +
    types.map((t) => `<type>${xmlEscape(t)}</type>`).join('') +
    `<recursive>${recursive}</recursive></CreateContainerView>`
  );
}

/** `DestroyView`. */
export function destroyViewBody(view: MoRef): string {
  return `<DestroyView xmlns="urn:vim25">${moRef('_this', view)}</DestroyView>`;
}

/** Which objects a property query covers: given objects, or every object of a container view. */
export type PropertyTarget = { objects: MoRef[] } | { view: MoRef };

/** `RetrievePropertiesEx` of `paths` of objects of `type`. */
export function retrievePropertiesExBody(propertyCollector: MoRef, type: string, paths: string[], target: PropertyTarget): string {
  const objectSpecs =
    'view' in target
      ? `<objectSet>${moRef('obj', target.view)}<skip>true</skip>` +
        '<selectSet xsi:type="TraversalSpec"><type>ContainerView</type><path>view</path><skip>false</skip></selectSet></objectSet>'
      : target.objects.map((o) => `<objectSet>${moRef('obj', o)}<skip>false</skip></objectSet>`).join('');
  return (
    `<RetrievePropertiesEx xmlns="urn:vim25">${moRef('_this', propertyCollector)}<specSet>` +
    `<propSet><type>${xmlEscape(type)}</type>${paths.map((p) => `<pathSet>${xmlEscape(p)}</pathSet>`).join('')}</propSet>` +
    `${objectSpecs}</specSet><options/></RetrievePropertiesEx>`
  );
}

/** `ContinueRetrievePropertiesEx` for the next page of a large result. */
export function continueRetrievePropertiesExBody(propertyCollector: MoRef, token: string): string {
  return `<ContinueRetrievePropertiesEx xmlns="urn:vim25">${moRef('_this', propertyCollector)}<token>${xmlEscape(token)}</token></ContinueRetrievePropertiesEx>`;
}

/**
 * Parses a SOAP reply: returns the method's response element (`<XResponse>`),
 * or throws {@link SoapFault} for a fault. Namespace prefixes are stripped, so
 * `xsi:type` is read as the attribute `type`.
 */
export function parseSoapReply(text: string): XmlNode {
  const doc = parseXmlTree(text, { stripPrefixes: true }, (reason) => new SoapFault(`the reply is not XML (${reason})`, undefined));
  // xml2js gives the root element as an object, not in an array.
  const body = child(doc['Envelope'] === undefined ? undefined : asNode(doc['Envelope']), 'Body');
  if (body === undefined) throw new SoapFault('the reply is not a SOAP envelope', undefined);
  const fault = child(body, 'Fault');
  if (fault !== undefined) {
    const detail = child(fault, 'detail');
    const detailChild = detail ? Object.keys(detail).find((k) => k !== '$' && k !== '_') : undefined;
    const detailNode = detailChild ? child(detail, detailChild) : undefined;
    const type = detailNode?.$?.['type'] ?? detailChild?.replace(/Fault$/, '');
    throw new SoapFault(textOf(child(fault, 'faultstring'))?.trim() || 'unknown fault', type);
  }
  const name = Object.keys(body).find((k) => k.endsWith('Response'));
  if (name === undefined) throw new SoapFault('the reply holds no response', undefined);
  return child(body, name) ?? {};
}

/** A managed object reference from a node like `<returnval type="Folder">group-d1</returnval>`. */
export function parseMoRef(node: XmlNode | undefined): MoRef | undefined {
  const value = textOf(node)?.trim();
  const type = node?.$?.['type'];
  return value && type ? { type, value } : undefined;
}

/** The ServiceContent of a RetrieveServiceContent reply. */
export function parseServiceContent(reply: XmlNode): ServiceContent {
  const rv = child(reply, 'returnval');
  const ref = (name: string): MoRef => {
    const r = parseMoRef(child(rv, name));
    if (r === undefined) throw new SoapFault(`the service content has no ${name}`, undefined);
    return r;
  };
  const about = child(rv, 'about');
  return {
    rootFolder: ref('rootFolder'),
    propertyCollector: ref('propertyCollector'),
    viewManager: ref('viewManager'),
    sessionManager: ref('sessionManager'),
    searchIndex: ref('searchIndex'),
    apiType: textOf(child(about, 'apiType')) ?? '',
    apiVersion: textOf(child(about, 'apiVersion')) ?? '',
  };
}

/** The single managed object a reply returns (FindByInventoryPath, CreateContainerView); undefined when none. */
export function parseReturnedMoRef(reply: XmlNode): MoRef | undefined {
  return parseMoRef(child(reply, 'returnval'));
}

/** One object of a RetrievePropertiesEx reply: its reference and property values by path. */
export interface ObjectContent {
  obj: MoRef;
  props: Map<string, XmlNode>;
}

/** The objects of a RetrievePropertiesEx reply and the token of the next page, if any. */
export function parseRetrieveResult(reply: XmlNode): { objects: ObjectContent[]; token?: string } {
  const rv = child(reply, 'returnval');
  const objects: ObjectContent[] = [];
  for (const oc of children(rv, 'objects')) {
    const obj = parseMoRef(child(oc, 'obj'));
    if (obj === undefined) continue;
    const props = new Map<string, XmlNode>();
    for (const ps of children(oc, 'propSet')) {
      const name = textOf(child(ps, 'name'));
      if (name !== undefined) props.set(name, child(ps, 'val') ?? {});
    }
    objects.push({ obj, props });
  }
  const token = textOf(child(rv, 'token'));
  return { objects, ...(token ? { token } : {}) };
}

/** The text of a child path, e.g. `text(node, 'hardware', 'memoryMB')`. */
export function text(node: XmlNode | undefined, ...path: string[]): string | undefined {
  let at = node;
  for (const name of path) at = child(at, name);
  return at === undefined ? undefined : (textOf(at) ?? (typeof at === 'string' ? at : undefined));
}

/** The xsi:type of a node ("VirtualDisk", "ParaVirtualSCSIController"...). */
export function xsiType(node: XmlNode | undefined): string | undefined {
  return node?.$?.['type'];
}

export { asNode, child, children };
