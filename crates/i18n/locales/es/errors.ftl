# Páginas de error.

error-csrf-title = Este formulario caducó
error-csrf-message = El formulario era demasiado antiguo o no venía de este sitio, así que no se cambió nada. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-bad-request-title = No se pudo leer esa solicitud
error-bad-request-message = El formulario llegó incompleto o mal formado, así que no se cambió nada. Recargue la página e inténtelo de nuevo.
error-too-large-title = Esa solicitud era demasiado grande
error-too-large-message = El formulario envió más datos de los que necesita un inicio de sesión, así que no se cambió nada. Recargue la página e inténtelo de nuevo.
error-unavailable-title = No disponible por el momento
error-unavailable-message = El servicio de inicio de sesión no puede llegar a su base de datos ahora mismo. No se cambió nada. Inténtelo de nuevo en un minuto; si sigue pasando, avise al administrador de su consultorio.
error-internal-title = Algo salió mal
error-internal-message = El servicio de inicio de sesión tuvo un error inesperado. No se cambió nada. Inténtelo de nuevo; si sigue pasando, avise al administrador de su consultorio.
not-found-title = Página no encontrada
not-found-message = No hay ninguna página en esta dirección.
not-found-link = Ir a la página de inicio
dead-reset-title = Este enlace de restablecimiento no funciona
dead-reset-message = El enlace ya se usó, tiene más de una hora o se copió incompleto. Pida uno nuevo.
dead-reset-link = Pedir un enlace nuevo
dead-invitation-title = Esta invitación no funciona
dead-invitation-message = El enlace ya se usó, tiene más de tres días o se copió incompleto. Pida al administrador de su consultorio que le envíe la invitación de nuevo.
dead-emergency-title = Este enlace de emergencia no funciona
dead-emergency-message = El enlace ya se usó, tiene más de una hora o se copió incompleto. Quien administra el servidor puede crear uno nuevo con `twofactor emergency-access`.
admins-only-title = Para administradores del consultorio
admins-only-message = Solo los administradores del consultorio pueden abrir esta página. Pida al suyo lo que necesite cambiar en una cuenta.
