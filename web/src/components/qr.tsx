"use client";
import * as React from "react";
import QRCode from "qrcode";

/** A QR string (WhatsApp's login payload) drawn as an image, offline. */
export function QrImage({ value, size = 240 }: { value: string; size?: number }) {
  const [src, setSrc] = React.useState<string | null>(null);
  React.useEffect(() => {
    let live = true;
    QRCode.toDataURL(value, { width: size, margin: 1, errorCorrectionLevel: "M" })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [value, size]);
  if (!src) return <div style={{ width: size, height: size }} className="animate-pulse rounded bg-muted" />;
  // eslint-disable-next-line @next/next/no-img-element
  return <img src={src} width={size} height={size} alt="QR code to scan with WhatsApp" className="rounded bg-white p-2" />;
}
