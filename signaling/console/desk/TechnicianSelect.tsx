import type { Technician } from "../../../shared/model.ts";

/** Technicians who can take part in sessions: enabled and with attended access. */
export function usableTechnicians(technicians: readonly Technician[]): Technician[] {
  return technicians.filter((technician) => !technician.disabled && technician.permissions.attendedAccess);
}

export function TechnicianSelect(props: {
  label: string;
  technicians: readonly Technician[];
  value: string;
  onChange: (id: string) => void;
}) {
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(event) => props.onChange(event.currentTarget.value)}>
        {props.technicians.map((technician) => (
          <option key={technician.id} value={technician.id}>
            {technician.name} ({technician.email})
          </option>
        ))}
      </select>
    </label>
  );
}
