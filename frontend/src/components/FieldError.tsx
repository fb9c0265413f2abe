import type { FieldError as ApiFieldError } from "../domain/types";

/** The errors of one field (or of the whole request, `field` null), under it. */
export function FieldErrors({ id, errors }: { id: string; errors: ApiFieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <p id={id} className="field-error" role="alert">
      {errors.map((error) => error.message).join("; ")}
    </p>
  );
}

export const errorsOf = (errors: ApiFieldError[], field: string | null): ApiFieldError[] =>
  errors.filter((error) => error.field === field);
