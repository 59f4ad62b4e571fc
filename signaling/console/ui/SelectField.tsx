import type { ComponentChildren } from "preact";
import { useId } from "preact/hooks";

/**
 * A labelled <select>. The label points at the select instead of wrapping it, so that its name
 * is the label alone and not the label plus every option's text.
 */
export function SelectField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  disabled?: boolean;
  inline?: boolean;
  children: ComponentChildren;
}) {
  const id = useId();
  return (
    <div class={props.inline === true ? "field inline" : "field"}>
      <label for={id}>{props.label}</label>
      <select
        id={id}
        value={props.value}
        disabled={props.disabled === true}
        onChange={(event) => props.onChange(event.currentTarget.value)}
      >
        {props.children}
      </select>
    </div>
  );
}
