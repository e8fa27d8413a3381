import { AuthFrame } from "@/components/auth-frame";
import { Logo } from "@/components/logo";

export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <AuthFrame
      home="/"
      brand={
        <>
          <Logo /> wasp
        </>
      }
    >
      {children}
    </AuthFrame>
  );
}
