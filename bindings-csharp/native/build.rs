//! Generates `Leaseq/NativeMethods.g.cs`, the raw P/Invoke layer, from the `extern "C"` functions.
//! csbindgen silently skips what it cannot express: `Leaseq.Tests` checks every exported symbol
//! is in the generated file.

const SOURCES: [&str; 7] = [
    "src/boundary.rs",
    "src/handles.rs",
    "src/item.rs",
    "src/options.rs",
    "src/ops.rs",
    "src/async_ops.rs",
    "src/worker.rs",
];

fn main() {
    let mut builder = csbindgen::Builder::default()
        .csharp_dll_name("leaseq_native")
        .csharp_namespace("Leaseq.Native")
        .csharp_class_name("NativeMethods")
        .csharp_class_accessibility("internal")
        // Mono's mcs (C# 7.2) has neither `nint` nor `delegate*`: IntPtr/UIntPtr and delegates.
        .csharp_use_nint_types(false)
        .csharp_use_function_pointer(false)
        .csharp_generate_const_filter(|name| name.starts_with("LEASEQ_"))
        .method_filter(|name| name.starts_with("leaseq_"));
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
        builder = builder.input_extern_file(source);
    }
    println!("cargo:rerun-if-changed=build.rs");
    builder
        .generate_csharp_file("../Leaseq/NativeMethods.g.cs")
        .unwrap_or_else(|err| panic!("csbindgen could not write Leaseq/NativeMethods.g.cs: {err}"));
}
