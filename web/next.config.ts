import type { NextConfig } from "next";

// A static export (web/out) that the wasp binary serves from the same origin as the API.
// No server features: no API routes, no middleware, no image optimisation.
const nextConfig: NextConfig = {
  output: "export",
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
};

export default nextConfig;
