import { reasonText } from "../domain/reasons";
import type { FieldError as ApiFieldError } from "../domain/types";

/** An error in plain words first when its code has some (e.g. "Not enough available
 * balance"), then the API's message, which says the numbers. */
const described = (error: ApiFieldError): string => {
  const plain = error.field === null ? reasonText(error.code) : null;
  return plain ? `${plain}: ${error.message}` : error.message;
};

/** The errors of one field (or of the whole request, `field` null), under it. */
export function FieldErrors({ id, errors }: { id: string; errors: ApiFieldError[] }) {
  if (errors.length === 0) return null;
  return (
    <p id={id} className="field-error" role="alert">
      {errors.map(described).join("; ")}
    </p>
  );
}

export const errorsOf = (errors: ApiFieldError[], field: string | null): ApiFieldError[] =>
  errors.filter((error) => error.field === field);
