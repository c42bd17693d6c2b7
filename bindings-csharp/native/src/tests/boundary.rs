use leaseq::{Error, ErrorKind};

use crate::boundary::*;

#[test]
fn a_panic_becomes_an_internal_error() {
    let mut error: *mut LeaseqError = std::ptr::null_mut();
    let code = call(&mut error, || panic!("boom"));
    assert_eq!(code, ErrorKind::Internal.code());
    let message = unsafe {
        std::str::from_utf8(std::slice::from_raw_parts(
            (*error).message,
            (*error).message_len,
        ))
        .unwrap()
        .to_owned()
    };
    assert!(message.contains("boom"), "{message}");
    unsafe { leaseq_error_free(error) };
}

#[test]
fn errors_keep_the_core_kind() {
    let mut error: *mut LeaseqError = std::ptr::null_mut();
    let code = call(&mut error, || Err(Error::invalid_argument("nope")));
    assert_eq!(code, 3);
    assert_eq!(unsafe { (*error).kind }, 3);
    unsafe { leaseq_error_free(error) };
    // A caller may pass no out_error and still get the code.
    assert_eq!(
        call(std::ptr::null_mut(), || Err(Error::invalid_argument("x"))),
        3
    );
}

#[test]
fn every_core_kind_is_listed_with_its_name() {
    let mut codes = [0u32; 16];
    let count = unsafe { leaseq_error_kinds(codes.as_mut_ptr(), codes.len()) };
    assert_eq!(count, ErrorKind::ALL.len());
    for (code, kind) in codes.iter().zip(ErrorKind::ALL) {
        assert_eq!(*code, kind.code());
        let mut len = 0usize;
        let name = unsafe { leaseq_error_kind_name(*code, &mut len) };
        let name = unsafe { std::str::from_utf8(std::slice::from_raw_parts(name, len)).unwrap() };
        assert_eq!(name, kind.name());
    }
    let mut len = 7usize;
    assert!(unsafe { leaseq_error_kind_name(0, &mut len) }.is_null());
    assert_eq!(len, 0);
}

#[test]
fn null_arguments_are_invalid_not_undefined() {
    assert!(unsafe { borrow_slice::<u8>(std::ptr::null(), 3, "id") }.is_err());
    assert_eq!(
        unsafe { borrow_slice::<u8>(std::ptr::null(), 0, "id") }.unwrap(),
        b""
    );
    assert!(unsafe { borrow_str(b"\xff".as_ptr(), 1, "name") }.is_err());
}
