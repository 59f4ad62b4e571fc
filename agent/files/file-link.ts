/**
 * What the file transfers need of a data channel: werift's RTCDataChannel on the agent (see
 * technician-peer.ts, fileLinkOf) or node-datachannel's (files-peer.ts), anything with the same few members in a benchmark.
 */
export type FileLink = {
  readonly open: boolean;
  /** Bytes queued on the channel and not yet handed to the network. */
  readonly bufferedAmount: number;
  /**
   * Sends on the channel; on a channel that is not open (closed meanwhile, e.g. a write finishing
   * after the connection went) it drops the data and never throws: the transfers learn of the close
   * from onClose and suspend or fail there.
   */
  send(data: string | Buffer): void;
  /** Calls `listener` once bufferedAmount has fallen to `threshold` or below. */
  whenLow(threshold: number, listener: () => void): void;
  onMessage(listener: (data: string | Buffer) => void): void;
  onClose(listener: () => void): void;
  /** Calls `listener` once the channel is open: soon, when it is open already. */
  onOpen(listener: () => void): void;
};
