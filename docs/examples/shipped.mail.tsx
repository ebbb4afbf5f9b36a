import { reactMail } from './react-email.renderer.js';

interface ShippedProps {
  name: string;
  orderId: string;
  total: number;
  currency: string;
}

/** Formats for the mail's locale, not the server's. */
function money(amount: number, currency: string, locale = 'en'): string {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(amount);
}

export const shipped = reactMail<ShippedProps>({
  subject: ({ orderId }) => `Order #${orderId} is on its way`,
  component: ({ name, orderId, total, currency, locale }) => (
    <html lang={locale ?? 'en'}>
      <body style={{ fontFamily: 'Helvetica, Arial, sans-serif' }}>
        <img src="cid:logo" alt="Lumen" width={24} height={24} />
        <h1>Good news, {name}</h1>
        <p>
          Order #{orderId} ({money(total, currency, locale)}) has left our workshop.
        </p>
        <a href={`https://track.example/parcels/${orderId}`}>Track your parcel</a>
      </body>
    </html>
  ),
});
