//! Guest memory as seen from inside a host function: bounds-checked reads, and results
//! handed back through the 8-byte result slot (docs/abi.md section 5.1).

use wasmtime::{Caller, Extern, Memory};

use crate::abi::{self, memory};
use crate::host::{HostState, HostTrap};

use super::{STATUS_ERROR, STATUS_NONE, STATUS_OK};

/// Size of the result slot every host function writes.
pub(crate) const SLOT_BYTES: u32 = 8;

/// What a host function hands back to the guest.
#[derive(Debug)]
#[doc(hidden)]
pub enum Reply {
    /// Success without a value: status OK, slot zero.
    Unit,
    /// Success with a scalar: status OK, the slot holds its 8 little-endian bytes.
    Scalar(u64),
    /// Success with bytes: status OK, the slot holds `(ptr, len)` of a guest-owned buffer.
    Bytes(Vec<u8>),
    /// No value: status NONE, slot zero.
    None,
    /// An error value: status ERROR, the slot holds the message buffer.
    Error(String),
}

/// The calling guest's memory, for the duration of one host function call.
pub(crate) struct Guest<'a, 'c> {
    caller: &'a mut Caller<'c, HostState>,
    memory: Memory,
}

impl<'a, 'c> Guest<'a, 'c> {
    /// The guest's exported memory.
    pub(crate) fn new(caller: &'a mut Caller<'c, HostState>) -> Result<Self, HostTrap> {
        let Some(Extern::Memory(memory)) = caller.get_export(abi::EXPORT_MEMORY) else {
            return Err(HostTrap::NoMemory);
        };
        Ok(Guest { caller, memory })
    }

    /// The store data of the calling instance.
    pub(crate) fn state(&self) -> &HostState {
        self.caller.data()
    }

    /// The whole guest memory, borrowed.
    pub(crate) fn memory_data(&self) -> &[u8] {
        self.memory.data(&*self.caller)
    }

    /// The guest bytes at `ptr..ptr + len`, borrowed (no copy).
    pub(crate) fn bytes(&self, what: &'static str, ptr: u32, len: u32) -> Result<&[u8], HostTrap> {
        let data = self.memory.data(&*self.caller);
        memory::read(data, ptr, len).ok_or(HostTrap::OutOfBounds {
            what,
            ptr,
            len,
            memory_size: data.len(),
        })
    }

    /// Checks that the result slot at `out` lies inside guest memory. Host functions call
    /// this before doing anything, so a bad slot never follows a side effect.
    pub(crate) fn check_slot(&self, out: u32) -> Result<(), HostTrap> {
        self.bytes("result slot", out, SLOT_BYTES).map(drop)
    }

    /// Delivers `reply` through the slot at `out` and returns the status for the guest.
    /// Async because a buffer is allocated by calling back into the guest (`allocate`).
    pub(crate) async fn reply(&mut self, out: u32, reply: Reply) -> wasmtime::Result<i32> {
        let (status, slot) = match reply {
            Reply::Unit => (STATUS_OK, 0),
            Reply::Scalar(bits) => (STATUS_OK, bits),
            Reply::None => (STATUS_NONE, 0),
            Reply::Bytes(bytes) => (STATUS_OK, self.give(&bytes).await?),
            Reply::Error(message) => {
                let cut = message.len().min(abi::MAX_ERROR_MESSAGE_LEN);
                (STATUS_ERROR, self.give(&message.as_bytes()[..cut]).await?)
            }
        };
        self.write(out, "result slot", &slot.to_le_bytes())?;
        Ok(status)
    }

    /// Copies `bytes` into a buffer from the guest's `allocate` and returns the slot value
    /// `ptr | len << 32` (0 for an empty buffer: nothing is allocated).
    async fn give(&mut self, bytes: &[u8]) -> wasmtime::Result<u64> {
        if bytes.is_empty() {
            return Ok(0);
        }
        let len = u32::try_from(bytes.len())
            .map_err(|_| HostTrap::ResultTooLarge { len: bytes.len() })?;
        let allocate = match self.caller.get_export(abi::EXPORT_ALLOCATE) {
            Some(Extern::Func(f)) => f.typed::<u32, u32>(&*self.caller)?,
            _ => return Err(HostTrap::NoAllocate.into()),
        };
        // Re-entering the guest: the call's deadline and fuel keep running.
        let ptr = crate::host::enter(&mut *self.caller, &allocate, len).await?;
        if ptr == 0 {
            return Err(HostTrap::AllocFailed { len }.into());
        }
        self.write(ptr, "buffer from allocate", bytes)?;
        Ok(u64::from(ptr) | (u64::from(len) << 32))
    }

    fn write(&mut self, ptr: u32, what: &'static str, bytes: &[u8]) -> Result<(), HostTrap> {
        let data = self.memory.data_mut(&mut *self.caller);
        let memory_size = data.len();
        memory::write(data, ptr, bytes).ok_or(HostTrap::OutOfBounds {
            what,
            ptr,
            len: bytes.len() as u32,
            memory_size,
        })
    }
}
