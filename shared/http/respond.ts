// What a function's route table answers, handed to the template's context: one adapter for every handler
// that serves routes (status, generate-report, analyze-capacity, retention-sweep).

export interface RouteAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

interface AnswerSink {
  status(code: number): unknown;
  headers(values: Record<string, string>): unknown;
}

/** Sets the status and headers of `answer` on `context` and returns the body for the template to send. */
export function respond(context: AnswerSink, answer: RouteAnswer): unknown {
  context.status(answer.status);
  if (answer.headers) context.headers(answer.headers);
  return answer.body;
}
