/** A few line icons (24×24, stroked), drawn here so nothing comes from a CDN. Always decorative. */
const PATHS = {
  plus: "M12 5v14M5 12h14",
  monitor: "M3 4h18v12H3zM8 20h8M12 16v4",
  hourglass: "M6 3h12M6 21h12M7 3c0 5 10 5 10 9s-10 4-10 9M17 3c0 5-10 5-10 9",
  connect: "M3 4h18v12H3zM8 20h8M12 16v4M10 7.5l4 2.5-4 2.5z",
  denied: "M3 4h18v12H3zM8 20h8M12 16v4M9.5 7.5l5 5M14.5 7.5l-5 5",
  open: "M3 4h18v12H3zM8 20h8M12 16v4M7 10h10",
  assign: "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21c0-4 3-6 7-6s7 2 7 6M19 8v6M16 11h6",
  transfer: "M4 7h13M13 3l4 4-4 4M20 17H7M11 13l-4 4 4 4",
  invite: "M8 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM1 21c0-4 3-6 7-6s7 2 7 6M17 3a4 4 0 0 1 0 8M19 15c2 1 4 3 4 6",
  link: "M10 14a5 5 0 0 0 7 0l3-3a5 5 0 0 0-7-7l-1 1M14 10a5 5 0 0 0-7 0l-3 3a5 5 0 0 0 7 7l1-1",
  pin: "M4 9h16M4 15h16M10 3L8 21M16 3l-2 18",
  release: "M4 12h11M11 8l4 4-4 4M15 4h5v16h-5",
  close: "M6 6l12 12M18 6L6 18",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  fit: "M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5",
  actual: "M4 4h16v16H4zM9 9h6v6H9z",
  fullscreen: "M3 8V3h5M21 8V3h-5M3 16v5h5M21 16v5h-5",
  keyboard: "M2 6h20v12H2zM6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10",
  clipboard: "M9 4h6v3H9zM7 5H5v16h14V5h-2",
  disconnect: "M18 6L6 18M3 4h18v12H3z",
  signout: "M15 4h5v16h-5M10 8l-4 4 4 4M6 12h11",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon(props: { name: IconName }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[props.name]} />
    </svg>
  );
}
