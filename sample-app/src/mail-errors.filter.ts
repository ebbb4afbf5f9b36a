import { Catch, HttpStatus, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { MailerError } from 'nestjs-mailroom';

const STATUS: Record<string, number> = {
  MAILER_INVALID_MAIL: HttpStatus.UNPROCESSABLE_ENTITY,
  MAILER_TEMPLATE_NOT_FOUND: HttpStatus.INTERNAL_SERVER_ERROR,
  MAILER_TEMPLATE_RENDER: HttpStatus.INTERNAL_SERVER_ERROR,
  MAILER_CANCELLED: HttpStatus.CONFLICT,
  MAILER_TRANSPORT: HttpStatus.BAD_GATEWAY,
};

/** Turns mailer errors into HTTP answers that say what happened, without internals. */
@Catch(MailerError)
export class MailErrorsFilter implements ExceptionFilter {
  catch(error: MailerError, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<{ status(code: number): { json(body: unknown): void } }>();
    const status = STATUS[error.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
    response.status(status).json({ statusCode: status, code: error.code, message: error.message });
  }
}
