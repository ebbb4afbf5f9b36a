/**
 * True for a host name that can only mean this machine: `localhost` and `*.localhost` (RFC 6761),
 * 127.0.0.0/8, ::1 and their IPv4-mapped form. Decided on the name as configured, without DNS: a
 * name that merely resolves to a loopback address today is not trusted to do so tomorrow.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
  return host === 'localhost' || host.endsWith('.localhost')
    || host === '::1' || host === '0:0:0:0:0:0:0:1'
    || /^(?:::ffff:)?127(?:\.\d{1,3}){3}$/.test(host);
}
