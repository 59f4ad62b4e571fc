/** The outcome line of a form or an action: refusals as alerts, confirmations as status. */
export function Outcome(props: { error: string | null; info?: string | null }) {
  return (
    <>
      {props.error !== null && (
        <p role="alert" class="outcome error">
          {props.error}
        </p>
      )}
      {props.info !== undefined && props.info !== null && (
        <p role="status" class="outcome info">
          {props.info}
        </p>
      )}
    </>
  );
}
