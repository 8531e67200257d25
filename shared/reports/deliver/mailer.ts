// SMTP through nodemailer (reports.email.*). Failures are told apart for the delivery record: no connection,
// a timeout or a 4xx answer may pass later (SMTP_UNAVAILABLE, retried with backoff); a 5xx answer will not
// (EMAIL_REJECTED: recorded, not retried). Either way the report itself is untouched.
import nodemailer, { type Transporter } from 'nodemailer';
import type { BatchProcessingConfig } from '../../config/index.ts';
import { BatchError } from '../../errors/index.ts';

export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  attachments: MailAttachment[];
}

export interface MailResult {
  messageId: string | null;
  /** The server's final answer, e.g. "250 2.0.0 Ok: queued as …". */
  response: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<MailResult>;
  close(): void;
}

interface SmtpErrorLike {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

/** A send failure in catalogue terms, carrying the SMTP answer (or the socket error) as its message. */
export function smtpFailure(err: unknown, host: string): BatchError {
  const e = (err ?? {}) as SmtpErrorLike;
  const answer = e.response ?? e.message ?? String(err);
  const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
  return new BatchError(permanent ? 'EMAIL_REJECTED' : 'SMTP_UNAVAILABLE', answer, {
    context: { host, smtpCode: e.responseCode ?? null, errorCode: e.code ?? null },
    cause: err,
  });
}

export function createMailer(config: BatchProcessingConfig): Mailer | undefined {
  const { host, port, user, password, from } = config.reports.email;
  if (!host) return undefined;
  const transport: Transporter = nodemailer.createTransport({
    host,
    port,
    secure: port === 465,
    ...(user ? { auth: { user, pass: password ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  });
  return {
    async send(message) {
      try {
        const info = (await transport.sendMail({ from, ...message })) as {
          messageId?: string;
          response?: string;
        };
        return { messageId: info.messageId ?? null, response: info.response ?? '' };
      } catch (err) {
        throw smtpFailure(err, host);
      }
    },
    close: () => transport.close(),
  };
}
