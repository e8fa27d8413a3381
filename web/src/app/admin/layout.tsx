import type { Metadata } from "next";

export const metadata: Metadata = {
  title: { default: "wasp admin", template: "%s · wasp admin" },
  description: "The operator's admin panel of wasp",
};

export default function AdminRootLayout({ children }: { children: React.ReactNode }) {
  return children;
}
