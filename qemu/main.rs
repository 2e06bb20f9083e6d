use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut entries = vec![("init".to_string(), 0o100755, std::fs::read(PathBuf::from(bulkhead::USER_BIN_DIR).join("init")).unwrap())];
    let mut append = String::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--init" => {
                i += 1;
                entries[0].2 = std::fs::read(&args[i]).unwrap();
            }
            "--append" => {
                i += 1;
                append = args[i].clone();
            }
            _ => {}
        }
        i += 1;
    }
    let cpio = bulkhead::cpio_newc(&entries);
    let path = std::env::temp_dir().join(format!("bulkhead-initrd-{}.cpio", std::process::id()));
    std::fs::write(&path, cpio).unwrap();
    let status = bulkhead::qemu_command(&path).arg("-append").arg(append).status().unwrap();
    let _ = std::fs::remove_file(&path);
    let code = status.code().unwrap_or(1);
    std::process::exit(if code & 1 == 1 { code >> 1 } else { 2 });
}
