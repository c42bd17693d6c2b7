//! C ABI for the .NET binding (placeholder).
