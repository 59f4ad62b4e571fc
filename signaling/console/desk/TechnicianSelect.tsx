import type { Technician } from "../../../shared/model.ts";
import { SelectField } from "../ui/SelectField.tsx";

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
    <SelectField label={props.label} value={props.value} onChange={props.onChange}>
      {props.technicians.map((technician) => (
        <option key={technician.id} value={technician.id}>
          {technician.name} ({technician.email})
        </option>
      ))}
    </SelectField>
  );
}
