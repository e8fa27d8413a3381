import { AuthFrame } from "@/components/auth-frame";
import { Logo } from "@/components/logo";
import { Badge } from "@/components/ui/badge";

/** The operator's sign-in and forced password change, outside the panel's guard. */
export default function AdminAuthLayout({ children }: { children: React.ReactNode }) {
  return (
    <AuthFrame
      home="/admin"
      brand={
        <>
          <Logo /> wasp <Badge variant="secondary">Admin</Badge>
        </>
      }
    >
      {children}
    </AuthFrame>
  );
}
