/**
 * Which of the negotiated codecs a technician's video sender uses. werift sends with the first
 * codec the answer accepted and sets it again at every answer (each ICE restart brings one); the
 * session's stream may be in another one the technician also accepted (video-codec.ts sharedCodec),
 * so the choice is kept here and applied again after each answer. While the stream is in a codec
 * the technician did not accept, nothing is sent to them (`usable`).
 */
import type { RTCRtpTransceiver } from "werift";
import type { VideoCodecName } from "../media/video-encoder.ts";
import { codecNameOf } from "./video-codec.ts";

export class SenderCodec {
  readonly #transceiver: RTCRtpTransceiver;
  #chosen: VideoCodecName;
  #usable = true;

  /** `preferred`: what it sends unless told otherwise (werift would take the answer's first). */
  constructor(transceiver: RTCRtpTransceiver, preferred: VideoCodecName) {
    this.#transceiver = transceiver;
    this.#chosen = preferred;
  }

  /** The codecs the technician's answer accepted, in the agent's order (none before the answer). */
  get accepted(): VideoCodecName[] {
    const names = this.#transceiver.codecs.map((codec) => codecNameOf(codec.mimeType));
    return [...new Set(names.filter((name) => name !== undefined))];
  }

  /** The technician can decode what is sent (false: the stream is in a codec they did not accept). */
  get usable(): boolean {
    return this.#usable;
  }

  /** Sends `codec` from now on; false if the technician did not accept it. */
  use(codec: VideoCodecName): boolean {
    this.#chosen = codec;
    return this.answered();
  }

  /** After an answer: the chosen codec again (werift reset it); false if it is no longer accepted. */
  answered(): boolean {
    const chosen = this.#chosen;
    const parameters = this.#transceiver.codecs.find((codec) => codecNameOf(codec.mimeType) === chosen);
    this.#usable = parameters !== undefined;
    if (parameters !== undefined) this.#transceiver.sender.codec = parameters;
    return this.#usable;
  }
}
