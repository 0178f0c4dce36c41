/**
 * The vSphere Web Services (vim25) messages of a warm migration, as pure
 * functions: snapshots (CreateSnapshot_Task, RemoveSnapshot_Task, the
 * snapshot tree), Changed Block Tracking (QueryChangedDiskAreas,
 * ReconfigVM_Task with changeTrackingEnabled), power (ShutdownGuest,
 * PowerOffVM_Task, PowerOnVM_Task) and the TaskInfo a task ends with. The
 * session that sends them is drivers/vsphere.ts; the warm migration that
 * uses them is src/warm/.
 *
 * Reference: the vSphere Web Services API (vim25) — VirtualMachine,
 * VirtualMachineSnapshot, DiskChangeInfo, TaskInfo; element order follows
 * the WSDL's sequences.
 */
import { child, children, text, xmlEscape, type MoRef } from './vsphere-soap.js';
import type { XmlNode } from '../src/text/xml-tree.js';

function moRef(tag: string, ref: MoRef): string {
  return `<${tag} type="${xmlEscape(ref.type)}">${xmlEscape(ref.value)}</${tag}>`;
}

/** `CreateSnapshot_Task`: no memory image; `quiesce` asks VMware Tools to flush the guest's filesystems first. */
export function createSnapshotBody(vm: MoRef, name: string, description: string, quiesce: boolean): string {
  return (
    `<CreateSnapshot_Task xmlns="urn:vim25">${moRef('_this', vm)}<name>${xmlEscape(name)}</name>` +
    `<description>${xmlEscape(description)}</description><memory>false</memory><quiesce>${quiesce}</quiesce></CreateSnapshot_Task>`
  );
}

/** `RemoveSnapshot_Task` of one snapshot (never its children), consolidating its disks. */
export function removeSnapshotBody(snapshot: MoRef): string {
  return `<RemoveSnapshot_Task xmlns="urn:vim25">${moRef('_this', snapshot)}<removeChildren>false</removeChildren><consolidate>true</consolidate></RemoveSnapshot_Task>`;
}

/**
 * `QueryChangedDiskAreas`: the areas of disk `deviceKey` changed since
 * `changeId` ("*": every allocated area) in the state of `snapshot`, from
 * `startOffset`. Without a snapshot the server answers for the current state,
 * and only for a powered-off VM.
 */
export function queryChangedDiskAreasBody(
  vm: MoRef,
  snapshot: MoRef | undefined,
  deviceKey: number,
  startOffset: number,
  changeId: string,
): string {
  return (
    `<QueryChangedDiskAreas xmlns="urn:vim25">${moRef('_this', vm)}${snapshot ? moRef('snapshot', snapshot) : ''}` +
    `<deviceKey>${deviceKey}</deviceKey><startOffset>${startOffset}</startOffset><changeId>${xmlEscape(changeId)}</changeId></QueryChangedDiskAreas>`
  );
}

/** `ReconfigVM_Task` changing only `changeTrackingEnabled` (CBT): the one change v2v makes to a VM, and only when asked (--enable-cbt). */
export function reconfigChangeTrackingBody(vm: MoRef, enabled: boolean): string {
  return `<ReconfigVM_Task xmlns="urn:vim25">${moRef('_this', vm)}<spec><changeTrackingEnabled>${enabled}</changeTrackingEnabled></spec></ReconfigVM_Task>`;
}

/** `ShutdownGuest`: asks VMware Tools to shut the guest down; returns at once (the power state changes later). */
export function shutdownGuestBody(vm: MoRef): string {
  return `<ShutdownGuest xmlns="urn:vim25">${moRef('_this', vm)}</ShutdownGuest>`;
}

/** `PowerOffVM_Task`: a hard power-off (no guest shutdown). */
export function powerOffBody(vm: MoRef): string {
  return `<PowerOffVM_Task xmlns="urn:vim25">${moRef('_this', vm)}</PowerOffVM_Task>`;
}

/** `PowerOnVM_Task`. */
export function powerOnBody(vm: MoRef): string {
  return `<PowerOnVM_Task xmlns="urn:vim25">${moRef('_this', vm)}</PowerOnVM_Task>`;
}

/** One changed (or allocated) area of a disk, in bytes. */
export interface DiskArea {
  start: number;
  length: number;
}

/** A QueryChangedDiskAreas answer: it covers [startOffset, startOffset + length); the next call starts there. */
export interface DiskChangeInfo {
  startOffset: number;
  length: number;
  areas: DiskArea[];
}

const int = (value: string | undefined, what: string): number => {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`the server sent ${what} "${value ?? ''}"`);
  return n;
};

/** Parses a QueryChangedDiskAreas response; throws on a malformed answer. */
export function parseDiskChangeInfo(reply: XmlNode): DiskChangeInfo {
  const rv = child(reply, 'returnval');
  if (rv === undefined) throw new Error('the server sent no DiskChangeInfo');
  return {
    startOffset: int(text(rv, 'startOffset'), 'startOffset'),
    length: int(text(rv, 'length'), 'length'),
    areas: children(rv, 'changedArea').map((a) => ({
      start: int(text(a, 'start'), 'area start'),
      length: int(text(a, 'length'), 'area length'),
    })),
  };
}

/** The outcome of a task (TaskInfo), as RetrievePropertiesEx of its `info` gives it. */
export interface TaskInfo {
  /** "queued", "running", "success" or "error". */
  state: string;
  /** For success: the result's text (a snapshot's MoRef value for CreateSnapshot_Task). */
  result?: string;
  /** For error: the fault's type (ToolsUnavailable, FileFault, ...) and its message. */
  error?: { type?: string; message: string };
  /** Percent done while running, when the server says. */
  progress?: number;
}

/** Parses a TaskInfo (`info` property of a Task). */
export function parseTaskInfo(info: XmlNode | undefined): TaskInfo {
  const state = text(info, 'state') ?? 'unknown';
  const result = text(info, 'result');
  const progress = text(info, 'progress');
  const error = child(info, 'error');
  const fault = child(error, 'fault');
  const faultType = fault?.$?.['type'];
  const message = text(error, 'localizedMessage')?.trim();
  return {
    state,
    ...(result !== undefined && result.trim() !== '' ? { result: result.trim() } : {}),
    ...(progress !== undefined ? { progress: Number(progress) } : {}),
    ...(error !== undefined
      ? { error: { ...(faultType ? { type: faultType } : {}), message: message || faultType || 'unknown fault' } }
      : {}),
  };
}

/** One snapshot of a VM, from its snapshot tree. */
export interface SnapshotNode {
  ref: MoRef;
  name: string;
  description: string;
  id: number;
  createTime?: string;
}

/** Flattens a VM's `snapshot` property (VirtualMachineSnapshotInfo) into its snapshots, parents first. */
export function parseSnapshotTree(info: XmlNode | undefined): SnapshotNode[] {
  const out: SnapshotNode[] = [];
  const walk = (nodes: XmlNode[]): void => {
    for (const node of nodes) {
      const refNode = child(node, 'snapshot');
      const value = text(refNode)?.trim();
      if (value) {
        const createTime = text(node, 'createTime');
        out.push({
          ref: { type: refNode?.$?.['type'] ?? 'VirtualMachineSnapshot', value },
          name: text(node, 'name') ?? '',
          description: text(node, 'description') ?? '',
          id: Number(text(node, 'id') ?? 0),
          ...(createTime ? { createTime } : {}),
        });
      }
      walk(children(node, 'childSnapshotList'));
    }
  };
  walk(children(info, 'rootSnapshotList'));
  return out;
}
