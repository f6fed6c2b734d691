//! The data folder holds what nobody but Vakt may read: the database (transmitter keys,
//! personnummer, phone numbers), the server secret, the API token and the demo's logins.
//!
//! So the folder is created 0700 and every file in it is kept 0600. A folder or file found
//! looser at start-up (made by an older Vakt, or copied in) is tightened, and the log says
//! which, so an operator knows the files were readable before. Only the data folder itself
//! is touched: a database configured elsewhere is the store's to create 0600.

use std::path::Path;

/// The data folder's mode: its owner alone may enter and list it.
pub const DIR_MODE: u32 = 0o700;
/// A data file's mode: its owner alone may read and write it.
pub const FILE_MODE: u32 = 0o600;

/// Creates the data folder 0700 when missing, and tightens it and its files when looser.
///
/// # Errors
/// When the folder cannot be created or a mode cannot be set.
pub fn secure(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(DIR_MODE)
                .create(dir)?;
        }
        tighten(dir, DIR_MODE)?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                tighten(&entry.path(), FILE_MODE)?;
            }
        }
        fn tighten(path: &Path, mode: u32) -> std::io::Result<()> {
            let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
            if current & !mode != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
                tracing::warn!(
                    path = %path.display(),
                    was = format!("{current:o}"),
                    now = format!("{mode:o}"),
                    "tightened a data file that others could read"
                );
            }
            Ok(())
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    Ok(())
}
