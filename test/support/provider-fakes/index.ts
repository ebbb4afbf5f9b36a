export * from './fake-server.js';
export * from './fake-checks.js';
export * from './mail.fixture.js';
export * from './sendgrid.fake.js';
export * from './postmark.fake.js';
export * from './resend.fake.js';
export * from './mailgun.fake.js';
export * from './ses.fake.js';
