# Por qué se rechazó lo pedido (domain::Reason); no se cambió nada.

reason-password-too-short = La contraseña debe tener al menos { $count } caracteres.
reason-password-too-long = La contraseña debe tener como máximo 128 caracteres.
reason-password-common = Esa contraseña es una de las más comunes, las que los atacantes prueban primero. Elija otra (unas cuantas palabras sin relación entre sí funcionan bien).
reason-password-has-username = La contraseña no debe contener su nombre de usuario.
reason-password-guessable = Esa contraseña es demasiado fácil de adivinar. Use unas cuantas palabras sin relación entre sí; añadir dígitos, mayúsculas y símbolos a una palabra común apenas ayuda.
reason-password-guessable-because = Esa contraseña es demasiado fácil de adivinar: { $why } Use unas cuantas palabras sin relación entre sí; añadir dígitos, mayúsculas y símbolos a una palabra común apenas ayuda.
reason-passwords-differ = Las dos contraseñas no coinciden.
reason-new-passwords-differ = Las dos contraseñas nuevas no coinciden.
reason-current-password-wrong = La contraseña actual no es correcta.
reason-password-wrong = La contraseña no es correcta.
reason-proof-needed = Escriba un código de su aplicación de autenticación o uno de sus códigos de recuperación (o cierre sesión y vuelva a entrar: durante 5 minutos tras iniciar sesión no hace falta ninguno).
reason-proof-wrong = Ese código de su aplicación o de recuperación no es válido.
reason-two-factor-required = Su consulta exige el inicio de sesión en dos pasos; no se puede desactivar.
reason-no-authenticator = No hay ninguna aplicación de autenticación vinculada.
reason-app-code-wrong = Ese código de su aplicación no es correcto.

reason-username-form = El nombre de usuario debe tener de 1 a 64 letras, dígitos, puntos, guiones, guiones bajos, @ o +.
reason-username-api-prefix = Los nombres de usuario que empiezan por "api." están reservados para los usuarios creados mediante la API.
reason-username-character = El nombre de usuario contiene un carácter que no se permite en los nombres.
reason-username-mixed-scripts = El nombre de usuario mezcla alfabetos (por ejemplo letras latinas y cirílicas); escríbalo en uno solo.
reason-username-look-alike = El nombre de usuario imita un nombre en letras latinas simples con caracteres parecidos; escríbalo con letras simples.
reason-username-taken = El nombre de usuario { $name } ya está en uso.

reason-not-admin = Solo los administradores de la consulta pueden hacer esto.
reason-admin-password-wrong = Su contraseña no es correcta; no se cambió nada.
reason-email-invalid = La dirección de correo electrónico no es válida.
reason-role-invalid = La función debe ser staff o admin.
reason-display-name-invalid = El nombre debe tener como máximo { $count } caracteres, en una sola línea.
reason-no-such-account = No existe esa cuenta.
reason-not-on-yourself = No puede hacer eso con su propia cuenta; pídaselo a otro administrador.
reason-already-has-password = { $name } ya eligió una contraseña; no hay invitación que reenviar.
reason-passkeys-off-for-admins = Las llaves de acceso no están disponibles en este servidor. No se puede exigir a los administradores que usen una.

reason-remember-days-range = Los días para recordar el dispositivo deben ser de 0 a { $max }.
reason-idle-timeout-range = El tiempo de inactividad debe ser de { $min } a { $max } minutos.
reason-min-length-range = La longitud mínima de la contraseña debe ser de { $min } a { $max }.
reason-zone-form = La zona horaria debe ser un nombre como America/Chicago.
reason-zone-unknown = No existe ninguna zona horaria llamada "{ $name }": use un nombre como America/Chicago o Europe/Madrid.

reason-phone-country = Elija el país del número de teléfono.
reason-phone-empty = Escriba el número de teléfono, por ejemplo (201) 555-0123.
reason-phone-unreadable = Eso no parece un número de teléfono de { $country }.
reason-phone-invalid = Ese no es un número de teléfono válido de { $country }. Revise los dígitos y el país.

reason-passkeys-off = Las llaves de acceso no están disponibles en este servidor.
reason-ceremony-expired = Tardó demasiado, o la página se usó dos veces. Inténtelo de nuevo.
reason-passkey-not-yours = Esa llave de acceso no es una de las registradas aquí para esta cuenta.
reason-passkey-cloned = Esta llave de acceso parece copiada (su contador retrocedió), así que se rechazó. Avise al administrador de su consulta.
reason-passkey-cannot-sign-in = Esta llave de acceso no puede iniciar sesión. Use su nombre de usuario y su contraseña.
reason-passkey-limit = Ya tiene { $count } llaves de acceso; quite una primero.
reason-passkey-duplicate = Esa llave de acceso ya está registrada.
reason-passkey-last-for-admin = Su consulta exige que los administradores usen una llave de acceso o de seguridad: añada otra antes de quitar esta.
reason-passkey-only-factor = Este es su único segundo factor y su consulta exige uno: vincule antes una aplicación de autenticación o un teléfono celular.
reason-passkey-answer-refused = No se aceptó la respuesta de la llave de acceso. Inténtelo de nuevo o use otra forma de las de abajo.
reason-passkey-name-control = El nombre no puede contener caracteres de control.
reason-passkey-name-long = El nombre es demasiado largo (como máximo { $count } caracteres).

reason-app-name = El nombre debe tener de 1 a 100 caracteres imprimibles.
reason-app-no-redirect = Indique al menos una URI de redirección (donde la aplicación recibe su código).
reason-app-too-many-uris = Como máximo { $count } URI de redirección de cada tipo.
reason-app-unknown = No existe esa aplicación en esta consulta.
reason-uri-too-long = Una URI de redirección tiene como máximo { $count } bytes.
reason-uri-spaces = "{ $uri }": una URI de redirección no puede contener espacios ni caracteres de control.
reason-uri-not-absolute = "{ $uri }" no es una URL absoluta.
reason-uri-fragment = "{ $uri }": una URI de redirección no puede tener un #fragmento.
reason-uri-credentials = "{ $uri }": una URI de redirección no puede contener un nombre de usuario ni una contraseña.
reason-uri-plain-http = "{ $uri }": use https (http simple solo hacia localhost).
reason-uri-scheme = "{ $uri }": el esquema { $scheme } no se permite (https, o http hacia localhost).

guess-straight-rows = las filas seguidas de teclas son fáciles de adivinar.
guess-keyboard-patterns = los patrones cortos del teclado son fáciles de adivinar.
guess-repeats = las repeticiones como "aaa" son fáciles de adivinar.
guess-repeated-groups = las repeticiones como "abcabcabc" son apenas más difíciles de adivinar que "abc".
guess-top-10 = es una de las 10 contraseñas más comunes.
guess-top-100 = es una de las 100 contraseñas más comunes.
guess-common = es una contraseña muy común.
guess-similar-to-common = se parece a una contraseña de uso común.
guess-sequences = las secuencias como abc o 6543 son fáciles de adivinar.
guess-recent-years = los años recientes son fáciles de adivinar.
guess-single-word = una palabra sola es fácil de adivinar.
guess-dates = las fechas suelen ser fáciles de adivinar.
guess-names = los nombres y apellidos solos son fáciles de adivinar.
guess-common-names = los nombres y apellidos comunes son fáciles de adivinar.

reason-oidc-no-client-id = La aplicación no dijo quién es (falta client_id).
reason-oidc-unknown-client = Esta aplicación no está registrada aquí (client_id desconocido).
reason-oidc-no-redirect-uri = La aplicación no dijo adónde volver (falta redirect_uri).
reason-oidc-redirect-mismatch = La aplicación pidió volver a una dirección que no tiene registrada (redirect_uri no coincide).
